"""onnx.checker for graphs holding onnxruntime's own operators.  The fused decoder has SimplifiedLayerNormalization in
the default domain, which onnx does not define, so the checker rejects the graph; it also skips, unseen, every node in
a domain it has no schemas for (com.microsoft: GroupQueryAttention, MatMulNBits, GatherBlockQuantized, ...).  The
schemas onnxruntime registers for those operators are translated into onnx's and registered while a check runs, so
the checker verifies those nodes as well (inputs, outputs, attributes and their types), against the definition of
the runtime that executes them."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import onnx
from onnx import defs

STANDARD_DOMAINS = ("", "ai.onnx")


def _opset(model: onnx.ModelProto, domain: str) -> int | None:
    want = "" if domain in STANDARD_DOMAINS else domain
    versions = {("" if o.domain in STANDARD_DOMAINS else o.domain): o.version for o in model.opset_import}
    return versions.get(want)


def _attribute(ort_attr) -> defs.OpSchema.Attribute:
    kind = defs.OpSchema.AttrType.__members__[ort_attr.type.name]
    if ort_attr.required:
        return defs.OpSchema.Attribute(ort_attr.name, kind, ort_attr.description, required=True)
    # onnxruntime's binding offers the default only as a serialized AttributeProto, under this name (empty when none).
    default = onnx.AttributeProto()
    default.ParseFromString(ort_attr._default_value)
    has_value = any(default.HasField(f) for f in ("f", "i", "s", "t", "g", "tp", "sparse_tensor")) or any(
        len(getattr(default, f)) for f in ("floats", "ints", "strings", "tensors", "graphs", "type_protos")
    )
    if has_value:
        return defs.OpSchema.Attribute(ort_attr.name, default, ort_attr.description)
    return defs.OpSchema.Attribute(ort_attr.name, kind, ort_attr.description, required=False)


def _parameter(p) -> defs.OpSchema.FormalParameter:
    return defs.OpSchema.FormalParameter(
        p.name,
        p.typeStr,
        p.description,
        param_option=defs.OpSchema.FormalParameterOption.__members__[p.option.name],
        is_homogeneous=p.isHomogeneous,
    )


def onnx_schema(ort_schema) -> defs.OpSchema:
    """onnxruntime's schema of one operator as onnx's."""
    return defs.OpSchema(
        ort_schema.name,
        ort_schema.domain,
        ort_schema.since_version,
        ort_schema.doc or "",
        inputs=[_parameter(p) for p in ort_schema.inputs],
        outputs=[_parameter(p) for p in ort_schema.outputs],
        type_constraints=[
            (t.type_param_str, list(t.allowed_type_strs), t.description) for t in ort_schema.type_constraints
        ],
        attributes=[_attribute(a) for a in ort_schema.attributes.values()],
    )


def missing_schemas(model: onnx.ModelProto) -> list:
    """onnxruntime's schemas (the newest each model's opset allows) of the model's operators onnx does not define."""
    from onnxruntime.capi import _pybind_state as ort_state

    by_op: dict[tuple[str, str], list] = {}
    for s in ort_state.get_all_operator_schema():
        by_op.setdefault((s.domain, s.name), []).append(s)
    found = {}
    for node in model.graph.node:
        domain = "" if node.domain in STANDARD_DOMAINS else node.domain
        opset = _opset(model, domain)
        if opset is None or (domain, node.op_type) in found or defs.has(node.op_type, opset, domain):
            continue
        usable = [s for s in by_op.get((domain, node.op_type), []) if s.since_version <= opset]
        if usable:
            found[(domain, node.op_type)] = max(usable, key=lambda s: s.since_version)
    return list(found.values())


@contextmanager
def ort_schemas(model: onnx.ModelProto):
    """onnx knows the model's onnxruntime-only operators inside the block (and forgets them after)."""
    registered = []
    try:
        for s in missing_schemas(model):
            defs.register_schema(onnx_schema(s))
            registered.append(s)
        yield [f"{s.domain or 'ai.onnx'}.{s.name}" for s in registered]
    finally:
        for s in registered:
            defs.deregister_schema(s.name, s.since_version, s.domain)


def check_model(path: Path) -> list[str]:
    """onnx.checker on the graph at `path` (the path form: external data is checked where it lies, never loaded),
    with onnxruntime's schemas for the operators onnx lacks.  Returns those operators' names."""
    with ort_schemas(onnx.load(str(path), load_external_data=False)) as names:
        onnx.checker.check_model(str(path))
        return names
