"""Run pipelines: the step entrypoint, executors, the run store and the artifact store."""
