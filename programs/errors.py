"""The one failure the programs report on purpose: the definition asks for something they
cannot build. Its message is written for the person who wrote the definition; anything else
the programs raise is a bug."""


class DefinitionError(ValueError):
    """The definition cannot be built as asked; the message says why and what to change."""
