"""Training NTM on a corpus, with SageMaker's hyperparameter meanings, and its artifact.

Gradients follow MXNet's optimizer contract, which SageMaker's NTM is built on: each gradient
is multiplied by ``rescale_gradient``, then clipped element-wise to ``[-clip_gradient,
clip_gradient]``, then the optimizer applies ``weight_decay`` (L2) and its update. As MXNet's
``Optimizer`` does when it knows the parameters' names (NTM's artifact holds MXNet ``Module``
parameters, such as ``arg:projection_weight``), weight decay applies to weights and batch
normalisation scales only, never to biases: "the weight decay multiplier is set as 0 for all
parameters whose name don't end with _weight or _gamma" (MXNet optimizer API). Decaying the
decoder's bias would pull the background word distribution towards uniform.

MXNet's AdaDelta takes no learning rate (its step is the ratio of the running RMS of updates to
that of gradients) and decays weights outside the adaptive step; ``adadelta`` here does the
same, so ``learning_rate`` does not affect it, as in SageMaker (AWS's NTM example notebook: "by
default we use adadelta optimizer and learning_rate does not need to be set").

Early stopping: an epoch improves when the validation loss (the training loss without a
validation channel) falls by more than ``tolerance`` relative to the best so far; training stops
after ``num_patience_epochs`` epochs without improvement, and the best epoch's weights are kept.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .data import DATA_CHANNELS, Corpus, DataError, read_channel, read_vocabulary
from .hyperparameters import NTMHyperparameters, parse_hyperparameters
from .model import NeuralTopicModel
from .quality import (
    WARNING_METRIC_PREFIX,
    active_units,
    collapse_warnings,
    describe_topics,
    topic_quality,
)

OBJECTIVE = "validation:total_loss"
ARTIFACT = "model.tar.gz"
# Corpora up to this many cells (documents x vocabulary) are kept dense on the device; larger
# ones are stored sparse and each mini-batch is densified on the fly.
DENSE_CELLS = 1 << 25
EVALUATION_BATCH = 4096

# What an epoch callback answers: None or "continue" to go on; any other word ends training,
# and becomes the training's ``stopped`` reason ("pruned", "stopped", ...).
EpochCallback = Callable[[dict[str, float]], str | None]


class TrainingFailed(RuntimeError):
    """The algorithm could not train (for example, the loss diverged)."""


@dataclass
class TrainedModel:
    model: NeuralTopicModel
    hyperparameters: NTMHyperparameters
    history: list[dict[str, float]]
    metrics: dict[str, float]
    stopped: str | None
    best_epoch: int
    seconds: float
    vocabulary: list[str] | None = None
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def topic_word(self) -> np.ndarray:
        return self.model.topic_word().cpu().numpy()

    def topics(self, n: int = 10) -> list[dict[str, object]] | None:
        if not self.vocabulary:
            return None
        return describe_topics(self.topic_word(), self.vocabulary, n)

    def save(self, output_dir: Path) -> Path:
        """Write ``model.tar.gz``: weights, topic-word matrix, hyperparameters, metrics, topics."""
        output_dir = Path(output_dir)
        output_dir.mkdir(parents=True, exist_ok=True)
        weights = io.BytesIO()
        torch.save({k: v.cpu() for k, v in self.model.state_dict().items()}, weights)
        matrix = io.BytesIO()
        np.save(matrix, self.topic_word().astype(np.float32))
        files: dict[str, bytes] = {
            "model.pt": weights.getvalue(),
            "topic_word.npy": matrix.getvalue(),
            "hyperparameters.json": _json(self.hyperparameters.as_strings()),
            "metrics.json": _json(
                {
                    "final": self.metrics,
                    "epochs": self.history,
                    "best_epoch": self.best_epoch,
                    "stopped": self.stopped,
                    "seconds": self.seconds,
                    "seed": self.seed,
                }
            ),
        }
        topics = self.topics()
        if topics is not None:
            files["topics.json"] = _json(topics)
            files["vocab.txt"] = "".join(f"{w}\n" for w in self.vocabulary or []).encode()
        path = output_dir / ARTIFACT
        with tarfile.open(path, mode="w:gz") as archive:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = 0  # the same training writes the same bytes
                archive.addfile(info, io.BytesIO(data))
        return path


def _json(document: object) -> bytes:
    return json.dumps(document, indent=2, sort_keys=True).encode()


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class DeviceCorpus:
    """A corpus on the training device, served as dense mini-batches."""

    def __init__(self, corpus: Corpus, device: torch.device) -> None:
        self.size = len(corpus)
        self.vocabulary_size = corpus.vocabulary_size
        self.device = device
        self.words = torch.from_numpy(corpus.document_lengths().astype(np.float32)).to(device)
        self.full: torch.Tensor | None = None
        if self.size * self.vocabulary_size <= DENSE_CELLS:
            self.full = torch.from_numpy(corpus.dense()).to(device)
        else:
            self.indptr = torch.from_numpy(corpus.indptr).to(device)
            self.indices = torch.from_numpy(corpus.indices.astype(np.int64)).to(device)
            self.values = torch.from_numpy(corpus.values).to(device)

    def batch(self, rows: torch.Tensor) -> torch.Tensor:
        if self.full is not None:
            return self.full.index_select(0, rows)
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        before = torch.cumsum(lengths, 0) - lengths
        total = int(lengths.sum())
        positions = torch.arange(total, device=self.device) + torch.repeat_interleave(
            starts - before, lengths
        )
        row_ids = torch.repeat_interleave(torch.arange(len(rows), device=self.device), lengths)
        out = torch.zeros(len(rows), self.vocabulary_size, device=self.device)
        out[row_ids, self.indices[positions]] = self.values[positions]
        return out


@dataclass(frozen=True)
class Evaluation:
    total: float
    reconstruction: float
    kl: float
    perplexity: float


@torch.no_grad()
def evaluate(model: NeuralTopicModel, data: DeviceCorpus) -> Evaluation:
    """Mean per-document loss with z at the posterior mean; perplexity = exp(loss per word)."""
    was_training = model.training
    model.eval()
    reconstruction = torch.zeros((), device=data.device)
    kl = torch.zeros((), device=data.device)
    for start in range(0, data.size, EVALUATION_BATCH):
        rows = torch.arange(start, min(start + EVALUATION_BATCH, data.size), device=data.device)
        r, k = model(data.batch(rows))
        reconstruction += r.sum()
        kl += k.sum()
    model.train(was_training)
    documents = max(data.size, 1)
    total = float(reconstruction + kl)
    words = float(data.words.sum())
    return Evaluation(
        total=total / documents,
        reconstruction=float(reconstruction) / documents,
        kl=float(kl) / documents,
        perplexity=math.exp(min(total / words, 700.0)) if words > 0 else math.nan,
    )


@torch.no_grad()
def posterior_means(model: NeuralTopicModel, data: DeviceCorpus) -> np.ndarray:
    """Documents x topics: the encoder's posterior mean of each document."""
    was_training = model.training
    model.eval()
    means = []
    for start in range(0, data.size, EVALUATION_BATCH):
        rows = torch.arange(start, min(start + EVALUATION_BATCH, data.size), device=data.device)
        means.append(model.encode(data.batch(rows))[0].cpu())
    model.train(was_training)
    return torch.cat(means).numpy()


def decays(name: str) -> bool:
    """Whether weight decay applies to the parameter of this name: MXNet's rule (weights and
    batch normalisation scales, both named ``weight`` in PyTorch)."""
    return name.rsplit(".", 1)[-1] == "weight"


class Optimizer:
    """The optimizer named by the hyperparameters, behind MXNet's gradient handling."""

    def __init__(
        self,
        hp: NTMHyperparameters,
        parameters: Iterable[torch.nn.Parameter] | Iterable[tuple[str, torch.nn.Parameter]],
    ) -> None:
        """``parameters``: a module's ``named_parameters()`` (decayed by name, as MXNet does),
        or bare parameters, all decayed."""
        named = [item if isinstance(item, tuple) else ("weight", item) for item in parameters]
        self.parameters = [p for _, p in named if p.requires_grad]
        self.decayed = [p for name, p in named if p.requires_grad and decays(name)]
        kept = [p for name, p in named if p.requires_grad and not decays(name)]
        self.hp = hp
        self.decoupled_decay = 0.0
        lr, wd = hp.learning_rate, hp.weight_decay
        params: list[dict[str, Any]] = [{"params": self.decayed}]
        if kept:
            params.append({"params": kept, "weight_decay": 0.0})
        if hp.optimizer == "sgd":
            self.inner: torch.optim.Optimizer = torch.optim.SGD(params, lr=lr, weight_decay=wd)
        elif hp.optimizer == "adam":
            self.inner = torch.optim.Adam(params, lr=lr, eps=1e-8, weight_decay=wd)
        elif hp.optimizer == "adagrad":
            self.inner = torch.optim.Adagrad(params, lr=lr, eps=1e-7, weight_decay=wd)
        elif hp.optimizer == "rmsprop":
            self.inner = torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-8, weight_decay=wd)
        elif hp.optimizer == "adadelta":
            self.inner = torch.optim.Adadelta(params, lr=1.0, rho=0.9, eps=1e-5, weight_decay=0.0)
            self.decoupled_decay = wd
        else:  # parse_hyperparameters admits only the five above
            raise ValueError(hp.optimizer)

    def step(self) -> None:
        rescale, clip = self.hp.rescale_gradient, self.hp.clip_gradient
        with torch.no_grad():
            for p in self.parameters:
                if p.grad is None:
                    continue
                if rescale != 1.0:
                    p.grad.mul_(rescale)
                if math.isfinite(clip):
                    p.grad.clamp_(-clip, clip)
            if self.decoupled_decay:
                for p in self.decayed:
                    if p.grad is not None:
                        p.mul_(1.0 - self.decoupled_decay)
        self.inner.step()

    def zero_grad(self) -> None:
        self.inner.zero_grad(set_to_none=True)


@contextmanager
def _deterministic_on(device: torch.device) -> Iterator[None]:
    """On the CPU, only deterministic algorithms while training; the setting is restored."""
    enabled = torch.are_deterministic_algorithms_enabled()
    if device.type == "cpu":
        torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled)


def train(
    hyperparameters: NTMHyperparameters | Mapping[str, object],
    train_corpus: Corpus,
    validation: Corpus | None = None,
    test: Corpus | None = None,
    *,
    vocabulary: Sequence[str] | None = None,
    seed: int = 0,
    threads: int | None = 1,
    device: str = "auto",
    on_epoch: EpochCallback | None = None,
    deadline: float | None = None,
    max_epochs: int | None = None,
    reference: Corpus | None = None,
) -> TrainedModel:
    """Train NTM; ``deadline`` is a ``time.monotonic()`` value after which training stops
    (reason "max_runtime"), ``max_epochs`` caps ``epochs`` (a tuner's resource limit), and
    ``reference`` is the corpus for NPMI (default: the training corpus).

    On the CPU, training uses deterministic algorithms only (``torch.use_deterministic_algorithms``)
    and ``threads`` threads: the same seed, data and hyperparameters give the same model.
    """
    with _deterministic_on(resolve_device(device)):
        hp = (
            hyperparameters
            if isinstance(hyperparameters, NTMHyperparameters)
            else parse_hyperparameters(hyperparameters)
        )
        for name, corpus in (("train", train_corpus), ("validation", validation), ("test", test)):
            if corpus is not None and corpus.vocabulary_size != hp.feature_dim:
                raise DataError(
                    f"feature_dim is {hp.feature_dim} but the {name} data has "
                    f"{corpus.vocabulary_size} words per document"
                )
        if len(train_corpus) == 0:
            raise DataError("the train channel holds no documents")
        if vocabulary is not None and len(vocabulary) != hp.feature_dim:
            raise DataError(
                f"vocab.txt has {len(vocabulary)} words but feature_dim is {hp.feature_dim}"
            )
        if threads:
            torch.set_num_threads(threads)
        started = time.monotonic()
        target = resolve_device(device)
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        generator = torch.Generator(device=target).manual_seed(seed)

        data = DeviceCorpus(train_corpus, target)
        held_out = (
            DeviceCorpus(validation, target) if validation is not None and len(validation) else None
        )
        model = NeuralTopicModel(
            hp.feature_dim,
            hp.num_topics,
            hp.hidden_sizes,
            hp.encoder_layers_activation,
            hp.batch_norm,
        ).to(target)
        model.set_background(torch.from_numpy(train_corpus.word_counts()).float().to(target))
        optimizer = Optimizer(hp, model.named_parameters())

        epochs = min(hp.epochs, max_epochs) if max_epochs else hp.epochs
        sample_size = max(1, round(hp.sub_sample * data.size))
        history: list[dict[str, float]] = []
        best_loss, best_epoch, best_state = math.inf, 0, _snapshot(model)
        patience = 0
        stopped: str | None = None
        for epoch in range(1, epochs + 1):
            if deadline is not None and time.monotonic() >= deadline:
                stopped = "max_runtime"
                break
            epoch_started = time.perf_counter()
            order = rng.permutation(data.size)[:sample_size]
            rows_all = torch.from_numpy(order).to(target)
            model.train()
            running = torch.zeros((), device=target)
            seen = 0
            for start in range(0, sample_size, hp.mini_batch_size):
                rows = rows_all[start : start + hp.mini_batch_size]
                if hp.batch_norm and len(rows) < 2:
                    continue  # batch statistics of one document are undefined
                reconstruction, kl = model(data.batch(rows), generator=generator)
                per_document = reconstruction + kl
                loss = per_document.mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                running += per_document.detach().sum()
                seen += len(rows)
            train_loss = float(running) / max(seen, 1)
            if not math.isfinite(train_loss):
                raise TrainingFailed(
                    f"the training loss became {train_loss} in epoch {epoch}; "
                    "try a lower learning_rate, a smaller rescale_gradient or a clip_gradient"
                )
            record: dict[str, float] = {"epoch": epoch, "train:total_loss": train_loss}
            monitored = train_loss
            if held_out is not None:
                scores = evaluate(model, held_out)
                record.update(
                    {
                        OBJECTIVE: scores.total,
                        "validation:reconstruction_loss": scores.reconstruction,
                        "validation:kl_divergence": scores.kl,
                    }
                )
                monitored = scores.total
                if not math.isfinite(monitored):
                    raise TrainingFailed(f"the validation loss became {monitored} in epoch {epoch}")
            seconds = time.perf_counter() - epoch_started
            record["seconds"] = seconds
            record["documents"] = seen
            record["documents_per_second"] = seen / seconds if seconds > 0 else math.inf
            history.append(record)

            if best_epoch == 0 or best_loss - monitored > hp.tolerance * abs(best_loss):
                best_loss, best_epoch, best_state = monitored, epoch, _snapshot(model)
                patience = 0
            else:
                patience += 1
            verdict = on_epoch(record) if on_epoch is not None else None
            if verdict not in (None, "continue"):
                stopped = verdict
                break
            if patience >= hp.num_patience_epochs:
                stopped = "early_stopping"
                break

        if best_epoch:
            model.load_state_dict(best_state)
        model.eval()
        metrics: dict[str, float] = {}
        if best_epoch:
            metrics["train:total_loss"] = history[best_epoch - 1]["train:total_loss"]
        if held_out is not None and best_epoch:
            final = evaluate(model, held_out)
            metrics[OBJECTIVE] = final.total
            metrics["validation:perplexity"] = final.perplexity
            metrics["validation:kl_divergence"] = final.kl
        if test is not None and len(test) and best_epoch:
            final_test = evaluate(model, DeviceCorpus(test, target))
            metrics["test:total_loss"] = final_test.total
            metrics["test:perplexity"] = final_test.perplexity
        if best_epoch:
            topic_word = model.topic_word().cpu().numpy()
            quality = topic_quality(topic_word, reference or train_corpus)
            metrics.update(quality.as_metrics())
            means = posterior_means(model, held_out or data)
            metrics["posterior:active_units"] = float(active_units(means))
            found = collapse_warnings(
                topic_word, means, best_epoch=best_epoch, epochs_run=len(history)
            )
            for code in found:
                metrics[WARNING_METRIC_PREFIX + code] = 1.0
        model.cpu()
        return TrainedModel(
            model=model,
            hyperparameters=hp,
            history=history,
            metrics=metrics,
            stopped=stopped,
            best_epoch=best_epoch,
            seconds=time.monotonic() - started,
            vocabulary=list(vocabulary) if vocabulary is not None else None,
            seed=seed,
        )


def _snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def read_channels(
    data_dir: Path,
    feature_dim: int | None = None,
    content_types: Mapping[str, str | None] | None = None,
) -> tuple[dict[str, Corpus], list[str] | None]:
    """The data channels under ``data_dir`` (SageMaker's ``input/data``) and the vocabulary."""
    data_dir = Path(data_dir)
    types = content_types or {}
    corpora = {
        channel: read_channel(data_dir / channel, types.get(channel), feature_dim)
        for channel in DATA_CHANNELS
        if (data_dir / channel).exists()
    }
    if "train" not in corpora:
        raise DataError(f"no train channel under {data_dir}")
    return corpora, read_vocabulary(data_dir / "auxiliary")


def train_channels(
    data_dir: Path,
    output_dir: Path,
    hyperparameters: Mapping[str, object],
    *,
    content_types: Mapping[str, str | None] | None = None,
    **options: Any,
) -> tuple[TrainedModel, Path]:
    """Train from channel folders laid out as SageMaker does and write ``model.tar.gz``."""
    hp = parse_hyperparameters(hyperparameters)
    corpora, vocabulary = read_channels(data_dir, hp.feature_dim, content_types)
    trained = train(
        hp,
        corpora["train"],
        corpora.get("validation"),
        corpora.get("test"),
        vocabulary=vocabulary,
        **options,
    )
    return trained, trained.save(output_dir)


def load_model(artifact: Path) -> tuple[NeuralTopicModel, NTMHyperparameters, dict[str, Any]]:
    """Rebuild the model from ``model.tar.gz``; also returns the metrics it was saved with."""
    with tarfile.open(artifact, mode="r:gz") as archive:
        members = {m.name: archive.extractfile(m) for m in archive.getmembers() if m.isfile()}
        contents = {name: f.read() for name, f in members.items() if f is not None}
    hp = parse_hyperparameters(json.loads(contents["hyperparameters.json"]))
    model = NeuralTopicModel(
        hp.feature_dim, hp.num_topics, hp.hidden_sizes, hp.encoder_layers_activation, hp.batch_norm
    )
    model.load_state_dict(torch.load(io.BytesIO(contents["model.pt"]), weights_only=True))
    model.eval()
    return model, hp, json.loads(contents["metrics.json"])
