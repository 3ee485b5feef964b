"""OnlineSupport: self-hosted online customer service in one process."""

__version__ = "0.1.0"
