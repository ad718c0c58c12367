"""The JSON API: thin routes that parse, call one domain function and return."""
