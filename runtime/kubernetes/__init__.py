"""The Kubernetes backend, in one place: each step attempt a Job, watched from the API server.

    executor.py   KubernetesExecutor: the executor protocol (runtime.executors.base) over Jobs and Pods
    jobs.py       the Job of one attempt of one step, and the plan ConfigMap
    watcher.py    list-then-watch threads for a run's Jobs and Pods
    status.py     what a Job or Pod says about its step (pure functions over the API's dicts)
    logs.py       pods' logs copied into the run store while they run
    types.py      the run's cluster settings and the records the threads pass on
    config.py     reaching a cluster: kubeconfig context or in-cluster service account
    preflight.py  every reason a cluster cannot run a plan, found before anything is created
    runs.py       a run prepared for a cluster: its plan and the pre-flight verdict
    endpoints.py  a deploy step's model server as a Deployment and Service

Nothing is imported here, so reading the settings (``types``) does not load the Kubernetes client.
"""
