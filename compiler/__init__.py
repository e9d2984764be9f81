"""Pipeline spec ⇄ YAML, validation, and compilation into an ExecutionPlan.

    text ──parse_pipeline──▶ Pipeline ──validate_pipeline──▶ [Diagnostic]
                                   └────compile_plan────▶ ExecutionPlan ──emitters──▶ manifests
"""

from .diagnostics import Diagnostic, errors_only
from .durations import format_duration, parse_duration
from .errors import SpecError, YamlError
from .plan import ArtifactRef, ExecutionPlan, PlannedStep, compile_plan, dump_plan_yaml, load_plan_yaml
from .spec import API_VERSION, Defaults, EdgeSpec, Metadata, NodeSpec, Pipeline, PipelineBody, PipelineUi, UiNote, UiPosition
from .validate import validate_pipeline
from .yaml_io import LoadedPipeline, SourceMap, dump_pipeline, dump_yaml, parse_pipeline, read_pipeline_file

__all__ = [
    "API_VERSION",
    "ArtifactRef",
    "Defaults",
    "Diagnostic",
    "EdgeSpec",
    "ExecutionPlan",
    "LoadedPipeline",
    "Metadata",
    "NodeSpec",
    "Pipeline",
    "PipelineBody",
    "PlannedStep",
    "SourceMap",
    "SpecError",
    "UiPosition",
    "UiNote",
    "PipelineUi",
    "YamlError",
    "compile_plan",
    "dump_pipeline",
    "dump_plan_yaml",
    "dump_yaml",
    "errors_only",
    "format_duration",
    "load_plan_yaml",
    "parse_duration",
    "parse_pipeline",
    "read_pipeline_file",
    "validate_pipeline",
]
