"""Where each built-in node type is defined, so that the catalog imports a node module when one of its types
is first used, not before.

``validate``, ``compile`` and ``run`` of a pipeline then load the modules of its own nodes only; all twenty
modules with their params models take about 16 ms to import, a tenth of a command's start-up. The palette and
``pipecanvas nodes`` list every type, so they load them all. ``nodes/builtin.py`` imports every class (the
entry point that names the built-in types, and the run process's warm-up, use it); a unit test checks that
the two name the same types in the same order.
"""

from __future__ import annotations

__all__ = ["BUILTIN_TYPES"]

#: type id → ``module:Class``, in palette order
BUILTIN_TYPES: dict[str, str] = {
    "data.sample": "nodes.data:SampleDataset",
    "data.file": "nodes.data:FileTable",
    "prepare.split": "nodes.prepare:Split",
    "prepare.clean": "nodes.prepare:Clean",
    "prepare.columns": "nodes.prepare_columns:SelectColumns",
    "prepare.rows": "nodes.prepare_rows:FilterRows",
    "prepare.join": "nodes.prepare_join:JoinTables",
    "prepare.formula": "nodes.prepare_formula:Formula",
    "train.classifier": "nodes.train:TrainClassifier",
    "train.regressor": "nodes.train:TrainRegressor",
    "train.mlp": "nodes.train_mlp:TrainMLP",
    "train.tune": "nodes.tune:Tune",
    "evaluate.classifier": "nodes.evaluate:EvaluateClassifier",
    "evaluate.regressor": "nodes.evaluate:EvaluateRegressor",
    "evaluate.compare": "nodes.compare:Compare",
    "evaluate.cross_validate": "nodes.cross_validate:CrossValidate",
    "explain.importance": "nodes.explain:Importance",
    "predict.table": "nodes.predict:PredictTable",
    "data.save": "nodes.data_save:SaveTable",
    "deploy.endpoint": "nodes.deploy:EndpointDeploy",
}
