"""The exact types a model file may name: what pipecanvas itself writes, and nothing else.

A skops file is a zip whose ``schema.json`` names, for every saved object, a
Python type (``module.Name``) and a loader; loading imports that type and, for
most loaders, calls it (``Name()``, ``Name(array)``, ``Name(*args)``). Whoever
can write a model file (a shared volume, a bucket) therefore chooses what a
step process, the model server or a resumed run imports and calls. Trusting a
whole package is not enough: ``numpy.memmap`` writes files, numpy's test
helpers run code, and merely importing ``numpy.f2py.__main__`` exits the
process. So ``nodes.model_check`` accepts only the names below, compared as
strings, before skops imports or builds anything.

The lists were made by saving every model kind the built-in nodes write (each
classifier and regressor algorithm, the clean node's recipes, the numpy
networks of ``train.mlp``) and collecting the names in their schemas;
``tests/unit/nodes/test_model_types.py`` repeats that and fails when a node
starts writing a type that is not here, or when a name here is no longer
written (so the list stays exact). Node plug-ins add the names their models
hold with ``NodeType.model_types``; ``allowed_model_types()`` unions them in.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["MODEL_TYPES", "MODEL_FUNCTIONS", "VALUE_TYPES", "allowed_model_types"]

#: Types whose values depend on the table a model was fitted on (a column of int32 gives numpy.int32
#: scalars; a dict keyed by numbers records ``int`` as its key type). Constructing them only converts
#: a value, so they are allowed although the corpus of built-in models need not show each one.
VALUE_TYPES = frozenset({
    "builtins.bool", "builtins.float", "builtins.int",
    "numpy.bool", "numpy.bool_", "numpy.float16", "numpy.float32", "numpy.float64",
    "numpy.int8", "numpy.int16", "numpy.int32", "numpy.int64",
    "numpy.uint8", "numpy.uint16", "numpy.uint32", "numpy.uint64",
})

#: Classes (and the containers holding them) that skops builds, constructs or looks up for a built-in model.
MODEL_TYPES = VALUE_TYPES | frozenset({
    # containers and numpy values
    "builtins.dict", "builtins.list", "builtins.slice", "builtins.str", "builtins.tuple",
    "numpy.dtype", "numpy.ndarray",
    "numpy.random._generator.Generator", "numpy.random.PCG64",  # histogram boosting's feature sampler
    "numpy.random.mtrand.RandomState",  # gradient boosting's random state
    # pipecanvas' own networks (train.mlp)
    "nodes.mlp_estimator.NumpyMLPClassifier", "nodes.mlp_estimator.NumpyMLPRegressor",
    # the clean node's recipe
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    # classifiers and regressors of the train nodes
    "sklearn.ensemble._forest.ExtraTreesClassifier", "sklearn.ensemble._forest.ExtraTreesRegressor",
    "sklearn.ensemble._forest.RandomForestClassifier", "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.ensemble._gb.GradientBoostingClassifier", "sklearn.ensemble._gb.GradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.naive_bayes.GaussianNB",
    "sklearn.neighbors._classification.KNeighborsClassifier",
    "sklearn.svm._classes.SVC",
    "sklearn.tree._classes.DecisionTreeClassifier", "sklearn.tree._classes.DecisionTreeRegressor",
    # what those hold once fitted: trees, boosting losses and links, bins, neighbour indexes
    "sklearn.tree._classes.ExtraTreeClassifier", "sklearn.tree._classes.ExtraTreeRegressor",
    "sklearn.tree._tree.Tree",
    "sklearn.dummy.DummyClassifier", "sklearn.dummy.DummyRegressor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss._loss.CyHalfBinomialLoss", "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss._loss.CyHalfSquaredError",
    "sklearn._loss.link.IdentityLink", "sklearn._loss.link.Interval", "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfBinomialLoss", "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.preprocessing._label.LabelEncoder",
})

#: Functions a built-in model refers to (never called while loading; called later by the model itself).
MODEL_FUNCTIONS = frozenset({
    "nodes.prepare.to_category_strings",  # the clean node's FunctionTransformer
})


@lru_cache(maxsize=1)
def allowed_model_types() -> tuple[frozenset[str], frozenset[str]]:
    """(types, functions) a model file may name: the built-in lists plus what installed node plug-ins declare.

    A plug-in's ``model_types`` are trusted both as types and as functions: it
    knows what its models hold, pipecanvas does not.
    """
    from .catalog import default_catalog

    declared: set[str] = set()
    for node_type in default_catalog():
        declared.update(node_type.model_types)
    return MODEL_TYPES | declared, MODEL_FUNCTIONS | declared
