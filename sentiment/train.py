"""Fine-tune the built-in model: ``python -m sentiment.train`` writes sentiment/weights/.

Trains on the train split of sentiment/data/labeled.*.tsv, keeps the epoch with the best
dev macro-F1, and reports that epoch's test-split scores in weights/training.json. Only a
LoRA adapter and the classification head are trained (the shipped recipe took 5 to 16
minutes an epoch on 2 shared CPU cores); the same seed gives the same run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from transformers import PreTrainedTokenizerBase, get_linear_schedule_with_warmup

from sentiment.batching import pad, predict_probabilities, tokenize
from sentiment.classifier import cpu_threads
from sentiment.compilation import logits_of
from sentiment.dataset import DATA_DIR, LabeledText, project_data
from sentiment.default_model import TEXT_PREFIX, WEIGHTS_DIR, base_model, classifier_config, load_tokenizer
from sentiment.evaluate import Evaluation, evaluation
from sentiment.prediction import LABELS

# Low-rank updates to every Linear of the encoder; the pooler and head are new and trained whole.
LORA_TARGETS = r".*encoder\.layer\.\d+\..*(query|key|value|dense)$"
# Batches are drawn from chunks of similar-length texts to spend less time on padding.
CHUNK_BATCHES = 16


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sentiment.train", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="folder with labeled.*.tsv")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR, help="where the adapter is written")
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank")
    parser.add_argument("--layers", type=int, default=8, help="encoder layers kept (e5 has 12)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=6e-4)
    parser.add_argument("--seed", type=int, default=13)
    return parser.parse_args(argv)


def trainable_model(rank: int, layers: int) -> PeftModel:
    """e5 as a classifier with a LoRA adapter on its encoder; the rest stays frozen."""
    lora = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.1,
        target_modules=LORA_TARGETS,
        modules_to_save=["pooler", "classifier"],
    )
    return get_peft_model(base_model(classifier_config(layers), progress=True), lora)


def training_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> Iterator[list[int]]:
    """Shuffled batches of indices, each from a chunk of similar lengths."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    batches = []
    chunk = batch_size * CHUNK_BATCHES
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    yield from batches


def evaluate_model(model: torch.nn.Module, tokenizer: PreTrainedTokenizerBase, rows: Sequence[LabeledText]) -> Evaluation:
    """Scores of the model (in training, not quantized) on ``rows``."""
    model.eval()
    probabilities = predict_probabilities(logits_of(model), tokenizer, [r.text for r in rows], prefix=TEXT_PREFIX, batch_size=64)
    return evaluation(rows, [LABELS[i] for i in probabilities.argmax(axis=1)])


def save(model: PeftModel, out: Path, report: dict[str, object]) -> None:
    """Write the adapter, the model config it applies to, and the training report."""
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    (out / "README.md").unlink(missing_ok=True)  # peft's blank model card; ours is data/README.md
    model.get_base_model().config.to_json_file(out / "config.json")
    (out / "training.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(cpu_threads())
    rng = random.Random(args.seed)

    rows = project_data(args.data_dir)
    splits = {name: [r for r in rows if r.split == name] for name in ("train", "dev", "test")}
    train = splits["train"]
    tokenizer = load_tokenizer()
    sequences = tokenize(tokenizer, [r.text for r in train], prefix=TEXT_PREFIX)
    targets = torch.tensor([LABELS.index(r.label) for r in train])

    model = trainable_model(args.rank, args.layers)
    model.print_trainable_parameters()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.learning_rate)
    steps = args.epochs * -(-len(train) // args.batch_size)
    scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=steps // 10, num_training_steps=steps)

    history: list[dict[str, float]] = []
    best_f1, best_state = -1.0, None
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        model.train()
        losses = []
        for batch in training_batches([len(s) for s in sequences], args.batch_size, rng):
            logits = model(**pad(tokenizer, [sequences[i] for i in batch])).logits
            loss = torch.nn.functional.cross_entropy(logits, targets[batch])
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        dev = evaluate_model(model, tokenizer, splits["dev"]).overall
        seconds = time.perf_counter() - started
        history.append({"epoch": epoch, "loss": float(np.mean(losses)), "dev_macro_f1": dev.macro_f1, "seconds": seconds})
        print(f"epoch {epoch}: loss {np.mean(losses):.3f}  dev macro-F1 {dev.macro_f1:.3f}  ({seconds:.0f} s)", flush=True)
        if dev.macro_f1 > best_f1:
            best_f1 = dev.macro_f1
            best_state = {k: v.clone() for k, v in get_peft_model_state_dict(model).items()}

    assert best_state is not None
    set_peft_model_state_dict(model, best_state)
    report = {
        "recipe": {k: v for k, v in vars(args).items() if k not in ("data_dir", "out")},
        "train_texts": len(train),
        "history": history,
        "best_epoch": max(history, key=lambda h: h["dev_macro_f1"])["epoch"],
        **{split: dataclasses.asdict(evaluate_model(model, tokenizer, splits[split])) for split in ("dev", "test")},
    }
    save(model, args.out, report)
    print(json.dumps({split: report[split]["overall"] for split in ("dev", "test")}))  # type: ignore[index]


if __name__ == "__main__":
    main()
