"""Environment definitions: schemas, queries and the rules for changing them."""
