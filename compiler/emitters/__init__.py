"""Emitters turn an ExecutionPlan into what another system runs; today, Kubernetes manifests (one package each).

    ExecutionPlan ──emit_kubernetes(plan, KubernetesEmitOptions)──▶ [Job, Deployment, Service, ConfigMap…]

Import from the emitter's own package (``compiler.emitters.kubernetes``): this package only groups them.
"""
