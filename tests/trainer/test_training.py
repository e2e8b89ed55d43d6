"""The local NTM: it learns planted topics, and every hyperparameter means what it means in
SageMaker."""

from __future__ import annotations

import itertools
import json
import math
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from preparation import synthetic
from trainer.data import Corpus, DataError
from trainer.hyperparameters import parse_hyperparameters
from trainer.model import BATCH_NORM_EPSILON, NeuralTopicModel
from trainer.quality import top_word_ids
from trainer.train import Optimizer, TrainedModel, load_model, train, train_channels

from .conftest import WORDS, planted_rows, write_channels

BASE = {"feature_dim": "130", "num_topics": "6"}


@pytest.fixture(scope="module")
def small() -> dict[str, Corpus]:
    return {
        "train": Corpus.from_rows(planted_rows(240, seed=11)),
        "validation": Corpus.from_rows(planted_rows(60, seed=12)),
    }


def quick(small: dict[str, Corpus], **hp: str) -> TrainedModel:
    return train(
        {**BASE, "epochs": "3", "optimizer": "adam", "learning_rate": "0.01", **hp},
        small["train"],
        small["validation"],
        seed=5,
    )


def test_validation_loss_falls_and_the_planted_topics_are_recovered(
    planted: dict[str, Corpus],
) -> None:
    # Eight topics for six themes: room for the common words, so no two themes must share one.
    trained = train(
        {
            **BASE,
            "num_topics": "8",
            "epochs": "20",
            "optimizer": "adam",
            "learning_rate": "0.02",
            "mini_batch_size": "64",
        },
        planted["train"],
        planted["validation"],
        planted["test"],
        vocabulary=WORDS,
        seed=0,
    )
    losses = [epoch["validation:total_loss"] for epoch in trained.history]
    assert losses[-1] < 0.85 * losses[0]
    assert sum(b < a for a, b in itertools.pairwise(losses)) >= 0.8 * (len(losses) - 1)

    top = top_word_ids(trained.topic_word(), 10)
    learned = [{WORDS[i] for i in topic} for topic in top]
    matched = []
    for theme, words in synthetic.THEMES.items():
        overlaps = [len(topic & set(words)) for topic in learned]
        best = int(np.argmax(overlaps))
        assert overlaps[best] >= 8, (theme, learned)
        matched.append(best)
    assert len(set(matched)) == len(synthetic.THEMES), "two themes share a topic"
    assert trained.metrics["topics:npmi"] > 0.6
    assert trained.metrics["topics:uniqueness"] > 0.7  # 6 themes over 8 topics: some overlap
    assert {"validation:total_loss", "test:total_loss", "train:total_loss"} <= set(trained.metrics)


def test_same_seed_same_model_other_seed_other_model(small: dict[str, Corpus]) -> None:
    def losses(trained: TrainedModel) -> list[dict[str, float]]:
        timing = ("seconds", "documents_per_second")
        return [{k: v for k, v in e.items() if k not in timing} for e in trained.history]

    first, again = quick(small), quick(small)
    other = train(
        {**BASE, "epochs": "3", "optimizer": "adam", "learning_rate": "0.01"},
        small["train"],
        small["validation"],
        seed=6,
    )
    assert losses(first) == losses(again)
    assert np.array_equal(first.topic_word(), again.topic_word())
    assert first.metrics == again.metrics
    assert not np.array_equal(first.topic_word(), other.topic_word())


def test_cpu_training_runs_deterministic_algorithms_only(small: dict[str, Corpus]) -> None:
    seen: list[bool] = []
    before = torch.are_deterministic_algorithms_enabled()
    train(
        {**BASE, "epochs": "2", "optimizer": "adam"},
        small["train"],
        small["validation"],
        device="cpu",
        on_epoch=lambda _: seen.append(torch.are_deterministic_algorithms_enabled()) and None,
    )
    assert seen == [True, True]
    assert torch.are_deterministic_algorithms_enabled() == before  # restored afterwards


def test_weight_decay_spares_biases_as_mxnet_does() -> None:
    weight, bias = nn.Parameter(torch.tensor([1.0, -2.0])), nn.Parameter(torch.tensor([3.0]))
    for name in ("sgd", "adadelta"):
        hp = parse_hyperparameters(
            {**BASE, "optimizer": name, "learning_rate": "0.5", "weight_decay": "0.2"}
        )
        weight.data, bias.data = torch.tensor([1.0, -2.0]), torch.tensor([3.0])
        optimizer = Optimizer(hp, [("decoder.weight", weight), ("decoder.bias", bias)])
        weight.grad, bias.grad = torch.zeros(2), torch.zeros(1)
        optimizer.step()
        assert bias.item() == 3.0, name
        assert weight.detach().tolist() != [1.0, -2.0], name


def test_a_model_whose_posterior_collapsed_is_flagged(small: dict[str, Corpus]) -> None:
    # Barely moved from its initialisation: the encoder's output hardly depends on the document.
    untrained = quick(small, optimizer="sgd", learning_rate="0.000001", epochs="2")
    assert untrained.metrics["posterior:active_units"] == 0
    assert untrained.metrics.get("warning:posterior_collapsed") == 1.0
    assert untrained.best_epoch == 1 and len(untrained.history) == 2
    assert untrained.metrics.get("warning:barely_trained") == 1.0
    trained = quick(small, epochs="6", mini_batch_size="16", batch_norm="true")
    assert trained.metrics["posterior:active_units"] == 6
    assert not [name for name in trained.metrics if name.startswith("warning:")]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("sgd", torch.optim.SGD),
        ("adam", torch.optim.Adam),
        ("adagrad", torch.optim.Adagrad),
        ("adadelta", torch.optim.Adadelta),
        ("rmsprop", torch.optim.RMSprop),
    ],
)
def test_each_optimizer_is_the_named_one(name: str, kind: type) -> None:
    hp = parse_hyperparameters({**BASE, "optimizer": name, "learning_rate": "0.02"})
    optimizer = Optimizer(hp, [nn.Parameter(torch.zeros(2))])
    assert isinstance(optimizer.inner, kind)
    expected = 1.0 if name == "adadelta" else 0.02  # MXNet's AdaDelta takes no learning rate
    assert optimizer.inner.param_groups[0]["lr"] == expected


def step_once(grad: list[float], weights: list[float], **hp: str) -> list[float]:
    parameter = nn.Parameter(torch.tensor(weights))
    optimizer = Optimizer(parse_hyperparameters({**BASE, **hp}), [parameter])
    parameter.grad = torch.tensor(grad)
    optimizer.step()
    return [round(v, 6) for v in parameter.detach().tolist()]


def test_gradients_are_rescaled_then_clipped_element_wise() -> None:
    sgd = {"optimizer": "sgd", "learning_rate": "1"}
    assert step_once([1.0, 0.1, -3.0], [0.0, 0.0, 0.0], **sgd) == [-1.0, -0.1, 3.0]
    assert step_once([1.0, 0.1, -3.0], [0.0, 0.0, 0.0], **sgd, rescale_gradient="0.5") == [
        -0.5,
        -0.05,
        1.5,
    ]
    assert step_once(
        [1.0, 0.1, -3.0], [0.0, 0.0, 0.0], **sgd, rescale_gradient="0.5", clip_gradient="0.1"
    ) == [-0.1, -0.05, 0.1]
    assert math.isinf(parse_hyperparameters(BASE).clip_gradient)  # default: no clipping


def test_weight_decay_is_l2_and_decoupled_for_adadelta() -> None:
    assert step_once(
        [0.0, 0.0], [1.0, -2.0], optimizer="sgd", learning_rate="0.5", weight_decay="0.2"
    ) == [0.9, -1.8]
    assert step_once([0.0, 0.0], [1.0, -2.0], optimizer="adadelta", weight_decay="0.2") == [
        0.8,
        -1.6,
    ]
    assert step_once([0.0, 0.0], [1.0, -2.0], optimizer="sgd", learning_rate="0.5") == [1.0, -2.0]


def test_learning_rate_moves_training_except_under_adadelta(small: dict[str, Corpus]) -> None:
    def loss(**hp: str) -> float:
        return float(quick(small, **hp).history[-1]["train:total_loss"])

    assert loss(optimizer="sgd", learning_rate="0.001") != loss(
        optimizer="sgd", learning_rate="0.05"
    )
    assert loss(optimizer="adadelta", learning_rate="0.001") == loss(
        optimizer="adadelta", learning_rate="0.5"
    )


def test_epochs_mini_batch_size_and_sub_sample(small: dict[str, Corpus]) -> None:
    trained = quick(small, epochs="4", mini_batch_size="50", sub_sample="0.5", tolerance="1e-6")
    assert len(trained.history) == 4
    assert all(epoch["documents"] == 120 for epoch in trained.history)  # half of 240 a epoch
    full = train(
        {**BASE, "epochs": "2", "optimizer": "adam", "mini_batch_size": "50", "tolerance": "1e-6"},
        small["train"],
        seed=1,
    )
    assert len(full.history) == 2 and all(e["documents"] == 240 for e in full.history)


def test_mini_batch_size_sets_the_number_of_updates(
    small: dict[str, Corpus], monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[int] = []
    original = Optimizer.step

    def counting(self: Optimizer) -> None:
        steps.append(1)
        original(self)

    monkeypatch.setattr(Optimizer, "step", counting)
    quick(small, epochs="2", mini_batch_size="50", tolerance="1e-6")
    assert len(steps) == 2 * math.ceil(240 / 50)


def test_early_stopping_uses_tolerance_and_patience(small: dict[str, Corpus]) -> None:
    patient = quick(
        small,
        epochs="30",
        optimizer="sgd",
        learning_rate="0.0001",
        tolerance="0.1",
        num_patience_epochs="2",
    )
    assert patient.stopped == "early_stopping"
    assert len(patient.history) == 3  # the first epoch sets the bar; two more fail to clear it
    assert patient.best_epoch == 1
    tolerant = quick(small, epochs="6", tolerance="1e-6", num_patience_epochs="10")
    assert tolerant.stopped is None and len(tolerant.history) == 6


def test_encoder_layers_activation_and_batch_norm() -> None:
    def linear_sizes(model: NeuralTopicModel) -> list[int]:
        return [m.out_features for m in model.encoder if isinstance(m, nn.Linear)]

    auto = parse_hyperparameters({**BASE, "num_topics": "7"})
    assert auto.hidden_sizes == (21, 14)
    model = NeuralTopicModel(130, 7, auto.hidden_sizes, "sigmoid", batch_norm=False)
    assert linear_sizes(model) == [21, 14]
    assert any(isinstance(m, nn.Sigmoid) for m in model.encoder)
    assert not any(isinstance(m, nn.BatchNorm1d) for m in model.modules())

    custom = parse_hyperparameters(
        {
            **BASE,
            "encoder_layers": "50, 20,10",
            "encoder_layers_activation": "tanh",
            "batch_norm": "true",
        }
    )
    model = NeuralTopicModel(
        130, 6, custom.hidden_sizes, custom.encoder_layers_activation, custom.batch_norm
    )
    assert linear_sizes(model) == [50, 20, 10]
    assert any(isinstance(m, nn.Tanh) for m in model.encoder)
    assert (
        sum(isinstance(m, nn.BatchNorm1d) for m in model.modules()) == 3 + 3
    )  # hidden + mean, logvar, decoder


def test_batch_norm_is_centred_not_scaled_so_the_biases_survive_it() -> None:
    """ProdLDA's batch norm keeps a learned shift: the background word frequencies and the
    posterior's mean and width are not normalised away."""
    torch.manual_seed(0)
    model = NeuralTopicModel(130, 6, (20, 12), "tanh", batch_norm=True)
    frequent = torch.zeros(130)
    frequent[:5] = 1000.0  # five words make almost all of the corpus
    model.set_background(frequent)
    with torch.no_grad():
        model.mean.bias.copy_(torch.arange(6.0))
        model.logvar.bias.fill_(-3.0)
    model.train()
    batch = (torch.rand(64, 130) < 0.2).float() * 3
    with torch.no_grad():
        mean, logvar = model.encode(batch)
        words = model.word_log_probabilities(torch.softmax(mean, dim=1)).exp()
    assert torch.allclose(mean.mean(dim=0), torch.arange(6.0), atol=1e-4)
    assert torch.allclose(logvar.mean(dim=0), torch.full((6,), -3.0), atol=1e-4)
    assert float(words[:, :5].sum(dim=1).min()) > 0.8
    # Without batch norm the same biases mean the same.
    plain = NeuralTopicModel(130, 6, (20, 12), "tanh", batch_norm=False)
    plain.set_background(frequent)
    with torch.no_grad():
        words = plain.word_log_probabilities(torch.full((64, 6), 1 / 6)).exp()
    assert float(words[:, :5].sum(dim=1).min()) > 0.8


def test_a_topic_is_the_decoders_word_distribution_for_that_topic_alone() -> None:
    """Topic k is what the decoder gives a document of topic k alone: with batch norm, each
    word's logit normalised by its moving statistics, then shifted by the bias; calling it
    neither changes the model's mode nor its moving statistics."""
    weights = torch.tensor(
        [[6.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 0.5], [0.5, 0.5, 0.5]]
    )
    bias = torch.tensor([0.0, -1.0, 0.3, 0.0, 2.0])
    moving_mean = torch.tensor([2.0, 0.3, 0.7, 0.2, 0.5])
    # With BATCH_NORM_EPSILON (1e-3) added, standard deviations of 10, 0.1, sqrt(2), 0.5, 1.
    moving_var = torch.tensor([99.999, 0.009, 1.999, 0.249, 0.999])
    model = NeuralTopicModel(5, 3, (4,), "tanh", batch_norm=True)
    norm = model.decoder_norm
    assert isinstance(norm, nn.BatchNorm1d)
    assert norm.running_mean is not None and norm.running_var is not None
    with torch.no_grad():
        model.decoder.weight.copy_(weights)
        model.decoder.bias.copy_(bias)
        norm.running_mean.copy_(moving_mean)
        norm.running_var.copy_(moving_var)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    topics = model.topic_word()
    assert model.training
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    spread = torch.tensor([10.0, 0.1, 2.0**0.5, 0.5, 1.0])
    logits = (weights - moving_mean[:, None]) / spread[:, None] + bias[:, None]
    assert torch.allclose(topics, torch.softmax(logits.T, dim=1), atol=1e-5)
    assert torch.allclose(topics.sum(dim=1), torch.ones(3))
    # Topic 0's largest weight (word 0) barely moves a word that varies this much; word 1 does.
    assert top_word_ids(topics.numpy(), 1)[:, 0].tolist() == [1, 2, 4]
    assert top_word_ids(weights.T.numpy(), 1)[0, 0] == 0
    model.eval()
    model.topic_word()
    assert not model.training
    # Without batch norm: the softmax of the topic's weights plus the bias.
    plain = NeuralTopicModel(5, 3, (4,), "tanh", batch_norm=False)
    with torch.no_grad():
        plain.decoder.weight.copy_(weights)
        plain.decoder.bias.copy_(bias)
    expected = torch.softmax((weights + bias[:, None]).T, dim=1)
    assert torch.allclose(plain.topic_word(), expected, atol=1e-6)


def test_batch_norm_does_not_magnify_units_that_barely_vary() -> None:
    """MXNet's epsilon (1e-3): a unit whose values vary by 0.001 over the batch stays near its
    mean instead of being stretched to unit variance, which the moving statistics used at
    evaluation would not follow."""
    model = NeuralTopicModel(130, 6, (20, 12), "sigmoid", batch_norm=True)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]
    assert len(norms) == 2 + 3 and all(m.eps == BATCH_NORM_EPSILON == 1e-3 for m in norms)
    model.train()
    flat = 5.0 + 0.001 * torch.randn(64, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        spread = model.mean_norm(flat).std(dim=0)
    assert float(spread.max()) < 0.05


def test_batch_norm_and_relu_train(small: dict[str, Corpus]) -> None:
    trained = quick(
        small, batch_norm="true", encoder_layers_activation="relu", mini_batch_size="33"
    )
    assert math.isfinite(trained.metrics["validation:total_loss"])
    assert any(isinstance(m, nn.BatchNorm1d) for m in trained.model.modules())


def test_num_topics_and_feature_dim(small: dict[str, Corpus]) -> None:
    trained = quick(small, num_topics="4")
    assert trained.topic_word().shape == (4, 130)
    assert np.allclose(trained.topic_word().sum(axis=1), 1.0, atol=1e-4)
    with pytest.raises(DataError, match="feature_dim is 131"):
        quick(small, feature_dim="131")


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_a_diverging_run_fails_with_a_reason(small: dict[str, Corpus]) -> None:
    from trainer.train import TrainingFailed

    source = small["train"]
    # Counts this large overflow float32 in the reconstruction loss.
    huge = Corpus(source.indptr, source.indices, source.values * 1e37, source.vocabulary_size)
    with pytest.raises(TrainingFailed, match="lower learning_rate"):
        train({**BASE, "epochs": "2"}, huge, seed=0)


def test_stops_when_the_callback_says_so(small: dict[str, Corpus]) -> None:
    seen: list[int] = []

    def verdict(record: dict[str, float]) -> str:
        seen.append(int(record["epoch"]))
        return "pruned" if record["epoch"] == 2 else "continue"

    trained = train(
        {**BASE, "epochs": "10", "optimizer": "adam"},
        small["train"],
        small["validation"],
        on_epoch=verdict,
    )
    assert seen == [1, 2] and trained.stopped == "pruned"
    assert "validation:total_loss" in trained.metrics


def test_artifact_round_trips(tmp_path: Path) -> None:
    data = write_channels(
        tmp_path / "data",
        {
            "train": planted_rows(200, 21),
            "validation": planted_rows(50, 22),
            "test": planted_rows(50, 23),
        },
        WORDS,
    )
    trained, artifact = train_channels(
        data,
        tmp_path / "out",
        {**BASE, "epochs": "3", "optimizer": "adam", "learning_rate": "0.01"},
        seed=2,
    )
    assert artifact == tmp_path / "out" / "model.tar.gz"
    with tarfile.open(artifact) as archive:
        names = set(archive.getnames())
        assert {
            "model.pt",
            "topic_word.npy",
            "hyperparameters.json",
            "metrics.json",
            "topics.json",
            "vocab.txt",
        } <= names
        topics = json.loads(archive.extractfile("topics.json").read())  # type: ignore[union-attr]
        metrics = json.loads(archive.extractfile("metrics.json").read())  # type: ignore[union-attr]
    assert len(topics) == 6 and len(topics[0]["words"]) == 10
    assert set(topics[0]["words"]) <= set(WORDS)
    assert len(metrics["epochs"]) == 3 and "test:total_loss" in metrics["final"]
    model, hp, _ = load_model(artifact)
    assert hp.num_topics == 6 and hp.optimizer == "adam"
    assert np.allclose(model.topic_word().numpy(), trained.topic_word())


def test_command_line_trains_from_channel_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from trainer.__main__ import main

    data = write_channels(
        tmp_path / "data",
        {"train": planted_rows(100, 31), "validation": planted_rows(30, 32)},
        WORDS,
    )
    args = [str(data), str(tmp_path / "out"), "feature_dim=130", "num_topics=3", "epochs=2"]
    assert main([*args, "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert "#epoch 2: train:total_loss=" in printed
    assert "#quality_metric: validation:total_loss = " in printed
    assert printed.count("topic ") == 3 and (tmp_path / "out" / "model.tar.gz").is_file()
    assert main([*args, "optimizer=lbfgs"]) == 2
    assert "ClientError: optimizer must be one of" in capsys.readouterr().err
