"""The job engine: procrastinate carries work; our `operations` table stays the user's record."""
