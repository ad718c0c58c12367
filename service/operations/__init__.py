"""Operations: requested changes of an environment, their planning, events and outcome."""
