"""Helpers that know nothing of customer service: time, signatures, encryption, counters,
logging, input checks, the error type for bad input, background loops. They import
only each other."""
