"""The integration surface: API tokens, the JSON objects the API and webhooks share, public
events (what webhooks send and the event feed serves) and webhook endpoints and delivery."""
