"""The JSON API for partner systems: app, views, tokens, rate limits and its OpenAPI file."""
