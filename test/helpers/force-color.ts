// Imported first by the Ink test helpers: colours on, so tests can check them (chalk reads this when it loads).
process.env.FORCE_COLOR = '1';
