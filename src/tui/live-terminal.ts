// Imported before Ink, for its side effect. Ink renders only the final frame when it believes it
// runs in CI (the is-in-ci package reads CI, CONTINUOUS_INTEGRATION and CI_* once, when Ink
// loads). The dashboard runs only on a terminal (the command refuses anything else), where it must
// be live whatever the environment says: so this process says it is not CI before Ink loads.
process.env.CI = 'false';
