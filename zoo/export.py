"""Export a fitted zoo model to ONNX, so it runs under onnxruntime without ml-advisor (or scikit-learn, torch).

Supervised tabular pipelines (``tabular_linear``, ``_decision_tree``, ``_random_forest``, ``_extra_trees``,
``_gradient_boosting`` on numeric columns, ``_svm``: imputer with missing-value indicators + scaler / one-hot
encoding + the model) go through skl2onnx with the preprocessing inside the graph. Input layout: one input per
training column (named as the column, with characters ONNX names refuse replaced by "_"; the side JSON maps
each input to its column), shape ``[N, 1]``: numeric columns ``float32`` (missing = NaN), text /
categorical columns ``string`` (missing = the empty string ""). Classifiers output ``label`` (the class labels)
and ``probabilities`` (``[N, n_classes]``, columns in ``classes`` order); regressors output ``value`` (``[N, 1]``).
The tabular MLP (``tabular_mlp``, classification) exports as one graph with the same inputs and outputs: its
preprocessing (skl2onnx) feeding its network (torch.onnx, dynamic batch axis), softmax and the label lookup.
The image models (``image_effnet_lite0_features_linear``: frozen CNN + classical head merged into one graph;
``image_effnet_lite0_finetune``) take ``image``: float32 ``[N, 3, size, size]``, resized and normalised as the side
JSON's ``preprocessing`` says (ONNX holds no image decoding or resizing).
A side JSON (``<file>.json``) lists the inputs, outputs and classes (and the images' preprocessing). A binary
classifier with a tuned decision threshold (zoo.imbalance) exports its ``label`` at that threshold, and the side
JSON records it (``decision_threshold``).

Imported lazily (skl2onnx and onnx load on first call); models it cannot export raise ``NotExportable``.
"""

from __future__ import annotations

import json
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

__all__ = ["NotExportable", "OPSET", "check_export", "export_onnx", "side_file"]

OPSET = {"": 19, "ai.onnx.ml": 3}          # opset 19: Equal on strings (missing categorical = "")
_TABULAR_ESTIMATORS = ("TabularLinear", "TabularDecisionTree", "TabularRandomForest", "TabularExtraTrees",
                       "TabularGradientBoosting", "TabularSVM")     # zoo.classical: preprocessing + model pipeline_
_TABULAR_MODELS = ("DecisionTreeClassifier", "DecisionTreeRegressor", "RandomForestClassifier",
                   "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor", "LogisticRegression", "Ridge",
                   "HistGradientBoostingClassifier", "HistGradientBoostingRegressor", "CalibratedClassifierCV",
                   "TransformedTargetRegressor")


class NotExportable(ValueError):
    """The model has no ONNX export here; the message names why (one line)."""


def side_file(path: "str | Path") -> Path:
    """The JSON written beside an export ``model.onnx`` -> ``model.onnx.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def export_onnx(model: Any, path: "str | Path", *, name: str) -> dict[str, Any]:
    """Write ``model`` (zoo model ``name``) as ONNX to ``path`` and its side JSON beside it; returns the side
    JSON's content. Raises NotExportable naming why when the model cannot be exported."""
    from zoo.io import write_bytes_atomic, write_text_atomic

    kind = type(model).__name__
    if kind in _TABULAR_ESTIMATORS:
        onx, side = _tabular(model)
    elif kind == "TabularMLP" and hasattr(model, "classes_"):
        onx, side = _tabular_mlp(model)
    elif kind == "ImageCnnFeaturesClassifier":
        onx, side = _image_hybrid(model)
    elif kind == "ImageEffnetLite0Finetune":
        onx, side = _image_finetune(model)
    elif kind in ("TextTfidfLinear", "TextTfidfRidge"):
        raise NotExportable(f"{name}: skl2onnx 1.20 cannot reproduce the zoo's TF-IDF tokens (accent stripping, "
                            "Unicode word pattern, char_wb n-grams): forced through, its labels agreed on 99.3 % of "
                            "Austen paragraphs, short of exact; use the run folder with `advisor predict`")
    elif kind == "TabularMLP":
        raise NotExportable(f"{name}: the regression MLP has no ONNX export yet (classification exports)")
    else:
        raise NotExportable(f"{name}: no ONNX export for {type(model).__name__} yet (these export: supervised "
                            "tabular pipelines, the tabular MLP classifier, the EfficientNet-Lite0 image hybrid and fine-tune)")
    side = {"format": "onnx", "model": name, "opset": OPSET, **side}
    if getattr(model, "decision_threshold_", None) is not None:
        _threshold_label(onx, model.classes_, model.positive_class_, model.decision_threshold_)
        side["decision_threshold"] = {"positive_class": _plain(model.positive_class_),
                                      "threshold": float(model.decision_threshold_),
                                      "rule": "label = positive_class when its probability >= threshold"}
    path = Path(path)
    write_bytes_atomic(path, onx.SerializeToString())
    write_text_atomic(side_file(path), json.dumps(side, indent=2, default=str))
    return side


def check_export(model: Any, path: "str | Path", side: dict[str, Any], sample: Any, *,
                 repeats: int = 5) -> dict[str, Any]:
    """Run the export at `path` under onnxruntime on `sample` beside the native model: the largest difference of
    probabilities (regressors: values), the share of equal labels, and the median per-item latency of both on
    the whole sample (`repeats` interleaved timings). `sample`: table rows (a DataFrame) or images (uint8
    arrays); the images are fed to ONNX preprocessed as the side JSON says, so its latency leaves out the
    resizing and normalising that the native figure includes."""
    import time

    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = _image_feeds(side, sample) if side.get("modality") == "image" else _table_feeds(model, side, sample)
    classifier = side.get("classes") is not None
    native = (lambda: model.predict_proba(sample)) if classifier else (lambda: model.predict(sample))
    exported = lambda: session.run(None, feeds)  # noqa: E731
    times: dict[str, list[float]] = {"native": [], "onnx": []}
    for _ in range(repeats):
        for key, call in (("native", native), ("onnx", exported)):
            start = time.perf_counter()
            call()
            times[key].append(time.perf_counter() - start)
    outputs = dict(zip(side["outputs"], exported()))
    ours = np.asarray(native(), dtype=np.float64)
    theirs = np.asarray(outputs["probabilities" if classifier else "value"], dtype=np.float64).reshape(ours.shape)
    n = len(sample)
    check = {"rows": n, "max_abs_diff": float(np.abs(ours - theirs).max()) if n else 0.0,
             "native_ms_per_item": float(np.median(times["native"])) / max(n, 1) * 1e3,
             "onnx_ms_per_item": float(np.median(times["onnx"])) / max(n, 1) * 1e3}
    if classifier:
        check["labels_equal"] = float(np.mean(np.asarray(outputs["label"]).astype(str)
                                              == np.asarray(model.predict(sample)).astype(str)))
    return check


def _table_feeds(model: Any, side: dict[str, Any], frame: Any) -> dict[str, np.ndarray]:
    """The export's inputs for DataFrame rows (dates expanded as zoo.columns does, outside the graph)."""
    prep = getattr(model, "column_prep_", None)
    if prep is not None and side.get("calendar"):
        frame = prep.transform(frame)
    return {s["name"]: (frame[[s["column"]]].to_numpy(np.float32) if s["dtype"] == "float32"
                        else frame[[s["column"]]].astype(object).where(frame[[s["column"]]].notna(), "")
                        .astype(str).to_numpy(object)) for s in side["inputs"]}


def _image_feeds(side: dict[str, Any], images: Any) -> dict[str, np.ndarray]:
    """uint8 images resized and normalised as the side JSON's preprocessing says (the project's timm transform)."""
    from PIL import Image

    from zoo.weights import timm_transform

    pre = side["preprocessing"]
    config = {"input_size": tuple(pre["input_size"]), "interpolation": pre["interpolation"],
              "crop_pct": pre["crop_pct"], "mean": tuple(pre["mean"]), "std": tuple(pre["std"])}
    transform = timm_transform(config, resize_mode=pre["resize_mode"])
    batch = np.stack([transform(Image.fromarray(np.asarray(x, dtype=np.uint8))).numpy() for x in images])
    return {side["inputs"][0]["name"]: batch.astype(np.float32)}


def _tabular(model: Any) -> tuple[Any, dict[str, Any]]:
    """skl2onnx graph of a tabular pipeline (preprocessing included) with one typed input per column."""
    head = model.pipeline_[-1]
    kind = type(head).__name__
    if kind not in _TABULAR_MODELS:
        raise NotExportable(f"{type(model).__name__}: no ONNX converter for {kind}")
    categorical = getattr(head, "is_categorical_", None)
    if categorical is not None and np.any(categorical):
        raise NotExportable(f"{type(model).__name__}: skl2onnx 1.20 writes histogram-boosting trees without their "
                            "categorical splits (the columns " + ", ".join(model.categorical_features_) + "); "
                            "tabular_random_forest or tabular_linear export with categorical columns")
    classifier = hasattr(model, "classes_")
    onx = _convert(model, {id(head): {"zipmap": False}} if classifier else None)
    if classifier:
        _rename_output(onx, "probabilities", 1)
    else:
        _rename_output(onx, "value", 0)
    return onx, _tabular_side(model, onx, "classical")


def _convert(model: Any, options: Any) -> Any:
    """skl2onnx graph of ``model.pipeline_`` with one typed input per training column."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    _register_imputer()
    _register_target_scaling()
    types = ([(c, FloatTensorType([None, 1])) for c in model.numeric_features_]
             + [(c, StringTensorType([None, 1])) for c in model.categorical_features_])
    try:
        with _int_attributes(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)    # the SVM converter reads SVC's deprecated probA_
            return convert_sklearn(model.pipeline_, initial_types=types, options=options, target_opset=OPSET)
    except (RuntimeError, NotImplementedError, ValueError, TypeError) as exc:
        raise NotExportable(f"{type(model).__name__}: skl2onnx cannot convert it "
                            f"({str(exc).splitlines()[0][:200]})") from exc


def _tabular_side(model: Any, onx: Any, family: str) -> dict[str, Any]:
    """The side JSON of a tabular export: inputs (graph name, column, dtype, missing), outputs, classes."""
    classifier = hasattr(model, "classes_")
    kinds = [("float32", "NaN")] * len(model.numeric_features_) + [("string", "")] * len(model.categorical_features_)
    inputs = [{"name": i.name, "column": c, "dtype": dtype, "shape": [None, 1], "missing": missing}
              for i, c, (dtype, missing) in zip(onx.graph.input, [*model.numeric_features_,
                                                                   *model.categorical_features_], kinds)]
    side = {"family": family, "modality": "tabular", "inputs": inputs, "outputs": [o.name for o in onx.graph.output],
            "classes": [c.item() if hasattr(c, "item") else c for c in model.classes_] if classifier else None}
    prep = getattr(model, "column_prep_", None)      # zoo.columns: dates become calendar inputs outside the graph
    if prep is not None and prep.date_columns_:
        from zoo.columns import CALENDAR

        side["calendar"] = {c: {f"{c}_{part}": f"pandas .dt.{part} of {c}" for part in CALENDAR}
                            for c in prep.date_columns_}
    return side


def _tabular_mlp(model: Any) -> tuple[Any, dict[str, Any]]:
    """One graph: the MLP's preprocessing (skl2onnx) feeding its torch network (torch.onnx, dynamic batch axis),
    softmax, then the label looked up from ``classes_``."""
    import onnx
    import torch

    pre = _convert(model, None)
    width = len(model.feature_names_out_)
    net = _torch_graph(torch.nn.Sequential(model.model_, torch.nn.Softmax(dim=1)), torch.zeros(2, width))
    pre.ir_version = net.ir_version = max(pre.ir_version, net.ir_version)
    onx = onnx.compose.merge_models(pre, net, io_map=[(pre.graph.output[0].name, "features")])
    _append_label(onx, model.classes_)
    return onx, _tabular_side(model, onx, "deep")


def _image_finetune(model: Any) -> tuple[Any, dict[str, Any]]:
    """The fine-tuned CNN (torch.onnx, dynamic batch axis) + softmax + label lookup; input as the hybrid's."""
    import copy

    import torch

    cfg = dict(model.data_config_)
    size = int(cfg["input_size"][-1])
    net = copy.deepcopy(model.model_).to("cpu").to(memory_format=torch.contiguous_format)
    onx = _torch_graph(torch.nn.Sequential(net, torch.nn.Softmax(dim=1)), torch.zeros(2, 3, size, size),
                       names=("image", "probabilities"))
    _append_label(onx, model.classes_)
    return onx, _image_side(model, onx, cfg, "deep", "center_crop")


def _image_side(model: Any, onx: Any, cfg: dict[str, Any], family: str, resize_mode: str) -> dict[str, Any]:
    """The side JSON of an image export: the input, outputs, classes and the preprocessing ONNX does not hold."""
    size = int(cfg["input_size"][-1])
    return {"family": family, "modality": "image",
            "inputs": [{"name": "image", "dtype": "float32", "shape": [None, 3, size, size], "layout": "NCHW, RGB"}],
            "outputs": [o.name for o in onx.graph.output],
            "classes": [c.item() if hasattr(c, "item") else c for c in model.classes_],
            "preprocessing": {"resize_mode": resize_mode, "input_size": list(cfg["input_size"]),
                              "interpolation": cfg.get("interpolation"), "crop_pct": cfg.get("crop_pct"),
                              "mean": list(cfg["mean"]), "std": list(cfg["std"]),
                              "steps": "RGB; resize the shorter side to size / crop_pct, centre crop size x size "
                                       "(resize_mode center_crop) or resize to size x size (squash); scale to "
                                       "[0, 1]; subtract mean, divide by std per channel"}}


def _image_hybrid(model: Any) -> tuple[Any, dict[str, Any]]:
    """One graph: the frozen CNN (torch.onnx) feeding the classical head (skl2onnx: scaler + logistic regression or
    forest). Input ``image``: float32 ``[N, 3, size, size]``, already resized and normalised as the side JSON says."""
    import copy

    import onnx
    import torch
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    extractor, head = model.pipeline_[0], model.pipeline_[1:]
    cfg = dict(extractor.data_config_)
    size = int(cfg["input_size"][-1])
    net = copy.deepcopy(extractor.network()).to("cpu").to(memory_format=torch.contiguous_format)
    backbone = _torch_graph(net, torch.zeros(2, 3, size, size), names=("image", "cnn_features"))
    try:
        top = convert_sklearn(head, initial_types=[("cnn_features", FloatTensorType([None, extractor.n_features_out_]))],
                              options={id(head[-1]): {"zipmap": False}}, target_opset=OPSET)
    except (RuntimeError, NotImplementedError, ValueError, TypeError) as exc:
        raise NotExportable(f"{type(model).__name__}: skl2onnx cannot convert its head ({exc})") from exc
    _rename_output(top, "probabilities", 1)
    backbone.ir_version = top.ir_version = max(backbone.ir_version, top.ir_version)
    onx = onnx.compose.merge_models(backbone, top, io_map=[("cnn_features", "cnn_features")])
    side = _image_side(model, onx, cfg, "hybrid", extractor.resize_mode)
    return onx, side


def _torch_graph(module: Any, example: Any, names: tuple[str, str] = ("features", "probabilities")) -> Any:
    """``module`` exported by torch.onnx (input and output ``names``, batch axis dynamic)."""
    import io
    import warnings

    import onnx
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the TorchScript exporter's deprecation notice
        torch.onnx.export(module.eval(), example, buffer, input_names=[names[0]], output_names=[names[1]],
                          dynamic_axes={names[0]: {0: "batch"}, names[1]: {0: "batch"}},
                          opset_version=OPSET[""], dynamo=False)
    return onnx.load_from_string(buffer.getvalue())


def _append_label(onx: Any, classes: Any) -> None:
    """Add output ``label`` = classes[argmax(probabilities)] in front of ``probabilities``."""
    from onnx import TensorProto, helper, numpy_helper

    values = np.asarray(classes)
    strings = values.dtype.kind in "OUS"
    table = numpy_helper.from_array(values.astype(object if strings else np.int64), name="class_labels")
    onx.graph.initializer.append(table)
    onx.graph.node.extend([helper.make_node("ArgMax", ["probabilities"], ["class_index"], axis=1, keepdims=0),
                           helper.make_node("Gather", ["class_labels", "class_index"], ["label"], axis=0)])
    label = helper.make_tensor_value_info("label", TensorProto.STRING if strings else TensorProto.INT64, [None])
    onx.graph.output.insert(0, label)


def _threshold_label(onx: Any, classes: Any, positive: Any, threshold: float) -> None:
    """Replace output ``label`` by the tuned binary rule: ``positive`` when its probability reaches ``threshold``
    (as zoo.imbalance.predict_labels does), else the other class."""
    from onnx import TensorProto, helper, numpy_helper

    values = np.asarray(classes)
    pos = int(np.flatnonzero(values == positive)[0])
    order = values[[1 - pos, pos]]                  # index 0: the other class, 1: the positive one
    strings = values.dtype.kind in "OUS"
    onx.graph.initializer.extend([
        numpy_helper.from_array(order.astype(object if strings else np.int64), name="threshold_labels"),
        numpy_helper.from_array(np.array(pos, np.int64), name="positive_index"),
        numpy_helper.from_array(np.array(threshold, np.float32), name="decision_threshold")])
    index = [o.name for o in onx.graph.output].index("label")
    _rename_output(onx, "label_argmax", index)
    del onx.graph.output[index]
    onx.graph.node.extend([
        helper.make_node("Gather", ["probabilities", "positive_index"], ["positive_probability"], axis=1),
        helper.make_node("GreaterOrEqual", ["positive_probability", "decision_threshold"], ["is_positive"]),
        helper.make_node("Cast", ["is_positive"], ["threshold_index"], to=TensorProto.INT64),
        helper.make_node("Gather", ["threshold_labels", "threshold_index"], ["label"], axis=0)])
    label = helper.make_tensor_value_info("label", TensorProto.STRING if strings else TensorProto.INT64, [None])
    onx.graph.output.insert(index, label)


def _plain(value: Any) -> Any:
    """A numpy scalar as its Python value (for JSON)."""
    return value.item() if hasattr(value, "item") else value


def _rename_output(onx: Any, new: str, index: int) -> None:
    """Rename graph output ``index`` (and the node output producing it) to ``new``."""
    old = onx.graph.output[index].name
    for node in onx.graph.node:
        for i, out in enumerate(node.output):
            if out == old:
                node.output[i] = new
    onx.graph.output[index].name = new


@contextmanager
def _int_attributes() -> Iterator[None]:
    """While converting, write numpy integer / bool node attributes as Python ints: skl2onnx 1.20 passes scikit-learn
    1.9's histogram-boosting node arrays (uint32 ids, uint8 missing-value flags) straight to onnx, which refuses them."""
    from skl2onnx.common import _container

    container = _container.ModelComponentContainer
    original = container.add_node

    def add_node(self: Any, op_type: str, inputs: Any, outputs: Any, *args: Any, **attrs: Any) -> Any:
        for key, value in attrs.items():
            if (isinstance(value, (list, tuple)) and value
                    and all(isinstance(v, (bool, np.bool_, np.integer)) for v in value)):
                attrs[key] = [int(v) for v in value]
        return original(self, op_type, inputs, outputs, *args, **attrs)

    container.add_node = add_node
    try:
        yield
    finally:
        container.add_node = original


def _register_target_scaling() -> None:
    """Convert TransformedTargetRegressor with a StandardScaler on the target (the SVR's wrapper): the inner
    regressor's graph, then ``value * scale + mean``."""
    from sklearn.compose import TransformedTargetRegressor
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes

    update_registered_converter(TransformedTargetRegressor, "AdvisorTransformedTargetRegressor",
                                calculate_linear_regressor_output_shapes, _target_scaling_convert)


def _target_scaling_convert(scope: Any, operator: Any, container: Any) -> None:
    from skl2onnx.algebra.onnx_ops import OnnxAdd, OnnxMul
    from skl2onnx.algebra.onnx_operator import OnnxSubEstimator

    op = operator.raw_operator
    scaler = op.transformer_
    if type(scaler).__name__ != "StandardScaler":
        raise NotExportable(f"a target transformed by {type(scaler).__name__} (StandardScaler exports)")
    version = container.target_opset
    scaled = OnnxSubEstimator(op.regressor_, operator.inputs[0], op_version=version)
    scale = np.asarray(scaler.scale_ if scaler.scale_ is not None else [1.0], np.float32)
    mean = np.asarray(scaler.mean_ if scaler.mean_ is not None else [0.0], np.float32)
    value = OnnxAdd(OnnxMul(scaled, scale, op_version=version), mean, op_version=version,
                    output_names=operator.outputs[:1])
    value.add_to(scope, container)


def _register_imputer() -> None:
    """Convert SimpleImputer ourselves: skl2onnx's converter drops ``add_indicator`` columns and refuses NaN as the
    string missing value. Here: missing = NaN (numbers) or "" (strings), filled by ``statistics_``, then the
    missing-indicator columns appended as 0/1 floats."""
    from sklearn.impute import SimpleImputer
    from skl2onnx import update_registered_converter

    update_registered_converter(SimpleImputer, "SklearnSimpleImputer", _imputer_shape, _imputer_convert)


def _imputer_shape(operator: Any) -> None:
    op = operator.raw_operator
    width = sum(v.type.shape[1] for v in operator.inputs)
    indicator = getattr(op, "indicator_", None)
    extra = len(indicator.features_) if indicator is not None else 0
    if len(op.statistics_) != width:
        raise NotExportable("a training column was entirely missing (the imputer drops it)")
    out = operator.outputs[0]
    out.type = type(operator.inputs[0].type)([operator.inputs[0].get_first_dimension(), width + extra])


def _imputer_convert(scope: Any, operator: Any, container: Any) -> None:
    from onnx import TensorProto
    from skl2onnx.operator_converters.common import concatenate_variables

    op = operator.raw_operator
    X = concatenate_variables(scope, operator.inputs, container)
    name = scope.get_unique_variable_name
    strings = op.statistics_.dtype == object
    fill = name("fill")
    mask = name("missing")
    if strings:
        empty = name("empty")
        container.add_initializer(empty, TensorProto.STRING, [], [b""])
        container.add_initializer(fill, TensorProto.STRING, [1, len(op.statistics_)],
                                  [str(s).encode() for s in op.statistics_])
        container.add_node("Equal", [X, empty], mask, name=name("Equal"))
    else:
        container.add_initializer(fill, TensorProto.FLOAT, [1, len(op.statistics_)],
                                  op.statistics_.astype(np.float32).tolist())
        container.add_node("IsNaN", [X], mask, name=name("IsNaN"))
    indicator = getattr(op, "indicator_", None)
    if strings and indicator is not None:
        raise NotExportable("a text-column imputer with missing-value indicators")
    filled = operator.outputs[0].full_name if indicator is None else name("filled")
    container.add_node("Where", [mask, fill, X], filled, name=name("Where"))
    if indicator is None:
        return
    cols, picked, flags = name("cols"), name("picked"), name("flags")
    container.add_initializer(cols, TensorProto.INT64, [len(indicator.features_)],
                              [int(i) for i in indicator.features_])
    container.add_node("Gather", [mask, cols], picked, axis=1, name=name("Gather"))
    container.add_node("Cast", [picked], flags, to=TensorProto.FLOAT, name=name("Cast"))
    container.add_node("Concat", [filled, flags], operator.outputs[0].full_name, axis=1, name=name("Concat"))
