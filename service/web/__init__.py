"""The internal web form: server-rendered pages on the same domain functions as the API."""
