"""Pure logic: rule-set model, condition language, evaluation. No I/O, env, clock or randomness."""
