"""The service layer: use cases that own their transactions. The CLI and the API call these."""
