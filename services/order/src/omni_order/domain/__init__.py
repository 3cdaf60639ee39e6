"""Pure order logic: the state machine, intake planning (decomposition and checks), geocoding, ids."""
