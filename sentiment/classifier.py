"""SentimentClassifier: any transformers sequence-classification checkpoint behind one API."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from sentiment import default_model
from sentiment.batching import predict_probabilities
from sentiment.compilation import CompilePolicy, ModelRunner
from sentiment.prediction import LabelMapping, Prediction
from sentiment.quantization import quantize_linears


class ModelLoadError(RuntimeError):
    """The configured sentiment model could not be loaded."""


def weights_digest(model: PreTrainedModel) -> str:
    """A short hash of every weight, so a changed checkpoint gets a new version."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:12]


# fp32 reference; bf16 and fp16 halve the weights; int8 = W8A8 Linear layers
# (sentiment.quantization).
PRECISIONS = ("fp32", "bf16", "fp16", "int8")


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bf16 natively; elsewhere bf16 is emulated and slow."""
    capabilities = torch.cpu.get_capabilities()
    return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))


def cpu_has_int8_dot() -> bool:
    """Whether this CPU has int8 dot-product instructions (VNNI or AMX) for int8 matmuls."""
    capabilities = torch.cpu.get_capabilities()
    return any(capabilities.get(name) for name in ("avx512_vnni", "avx_vnni", "amx_int8"))


def auto_precision(device: torch.device) -> str:
    """fp16 on GPUs; on CPUs int8 with VNNI, else bf16 where native, else fp32.

    On the 2-core benchmark machine int8 (per-token W8A8) ran about 1.3x faster than bf16
    once compiled and kept test macro-F1 within half a point of fp32; bf16 kept the fp32
    labels and ran 1.9x faster than fp32 (sentiment/data/README.md).
    """
    if device.type == "cuda":
        return "fp16"
    if cpu_has_int8_dot():
        return "int8"
    return "bf16" if cpu_has_bf16() else "fp32"


def with_precision(model: PreTrainedModel, precision: str) -> torch.nn.Module:
    """The model converted to run in ``precision`` (one of PRECISIONS)."""
    if precision == "int8":
        return quantize_linears(model.float())
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in dtypes:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    return model.to(dtypes[precision])


def cpu_threads() -> int:
    """The cores this process may use: torch otherwise counts the host's, oversubscribing
    a container or a CPU-pinned worker."""
    # sched_getaffinity is Linux-only; elsewhere every core counts.
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(torch.get_num_threads(), usable)


def local_or_hub(model: str | os.PathLike[str]) -> str | Path:
    """A Path for what names a local folder, else the string as a hub id ("org/name")."""
    text = os.fspath(model)
    path = Path(text).expanduser()
    if not isinstance(model, str) or path.exists() or text.startswith(("/", ".", "~")):
        return path
    return text


def attention_for(device: torch.device) -> str:
    """transformers' attention implementation that runs fastest on ``device``.

    On CPU, mentions are short (median 31 tokens): the plain matmul-softmax attention
    ("eager") was as fast as the fused SDPA kernel uncompiled, and inductor fuses it into the
    surrounding ops where it cannot fuse SDPA (compiled: 348 vs 314 sentences/s, same run).
    GPUs keep SDPA's fused kernels.
    """
    return "sdpa" if device.type == "cuda" else "eager"


def load_checkpoint(source: str | Path, *, attention: str) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Tokenizer and model from ``source``, with one clear error for any failure."""
    if isinstance(source, Path) and not source.is_dir():
        raise ModelLoadError(f"sentiment model folder {str(source)!r} does not exist")
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(source, attn_implementation=attention)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"cannot load sentiment model {str(source)!r}: it must be a transformers "
            f"sequence-classification checkpoint (a folder with config.json, weights and "
            f"tokenizer, or a hub id reachable from here). {exc}"
        ) from exc
    return tokenizer, model.eval()


class SentimentClassifier:
    """Labels texts negative, neutral or positive.

    ``model`` is None for the built-in multilingual model, or a hub id or local folder of
    any transformers sequence-classification checkpoint; ``label_map`` maps that
    checkpoint's label names to ours. A checkpoint whose config.json sets ``text_prefix``
    (the built-in one: e5's "query: ") gets it before every text. ``precision`` (see
    PRECISIONS) defaults to fp16 on CUDA and on CPU to int8 where it has VNNI, else bf16
    where native, else fp32. ``compile``
    says when to torch.compile the model (see sentiment.compilation): "auto" once the time
    spent classifying would have paid for it, "always" at the first batch, or "never".
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        label_map: Mapping[str, str] | None = None,
        device: str | None = None,
        batch_size: int = 32,
        precision: str | None = None,
        cache_dir: Path | None = None,
        compile: CompilePolicy = "auto",
    ) -> None:
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.batch_size = batch_size
        if model is None:
            source: str | Path = default_model.ensure_built(cache_dir)
            self.name = default_model.NAME
        else:
            source = local_or_hub(model)
            self.name = str(model)
        self.tokenizer, loaded = load_checkpoint(source, attention=attention_for(self.device))
        self.version = default_model.shipped_version() if model is None else weights_digest(loaded)
        self.labels = LabelMapping(loaded.config.id2label, label_map)
        self.prefix: str = getattr(loaded.config, "text_prefix", "")
        self.precision = precision or auto_precision(self.device)
        if self.device.type == "cpu":
            torch.set_num_threads(cpu_threads())
        self.model = with_precision(loaded, self.precision).to(self.device)
        self.runner = ModelRunner(self.model, compile)

    def expect(self, texts: int) -> None:
        """Say how many texts the next classify calls will bring in all, so the "auto"
        compile policy can compile at the start of a big job (see sentiment.compilation)."""
        self.runner.expect(texts)

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        """One Prediction per text, in input order."""
        if not texts:
            return []
        probabilities = predict_probabilities(
            self.runner,
            self.tokenizer,
            texts,
            prefix=self.prefix,
            batch_size=self.batch_size,
            device=self.device,
        )
        return self.labels.predictions(probabilities)
