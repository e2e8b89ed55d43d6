"""The neural topic model: a variational encoder over bag-of-words, a softmax decoder.

Encoder: an MLP (``encoder_layers``, ``encoder_layers_activation``) from word counts to the
mean and log-variance of a K-dimensional Gaussian. A reparameterised sample goes through a
softmax to become the document's topic proportions. Decoder: topic proportions times a K x V
topic-word matrix plus a background word bias, softmax over the vocabulary (ProdLDA's
product of experts). The background bias starts at the corpus's log word frequencies, so the
topics spend their weight on what sets documents apart rather than on common words.

With ``batch_norm`` the encoder's hidden layers, the mean and log-variance, and the decoder's
logits are batch-normalised, as in ProdLDA (Srivastava and Sutton, "Autoencoding Variational
Inference for Topic Models", 2017). As there, the normalisation of the mean, the log-variance
and the logits has no scale but keeps a learned shift (ProdLDA's batch norm is centred, not
scaled): the bias of the layer, added after the normalisation. It is also the default of
MXNet's BatchNorm operator, which SageMaker's NTM is built on (``fix_gamma=True``: the scale
gamma stays 1, the shift beta is learned; MXNet's ``BatchNorm`` API; which arguments NTM
passes it is not published). Normalising without the shift would cancel the bias (a batch norm
subtracts each unit's mean over the batch): every word would get the same mean logit, so the
decoder could not tell frequent words from rare ones, and every posterior would get a mean
log-variance of 0, as wide as the prior, whatever the document.

Topics (``topic_word``): topic k is the word distribution the decoder gives a document of
topic k alone, the same thing as an LDA topic, p(word | topic). With ``batch_norm`` that is the
softmax of the normalised logits plus the learned shift, as the decoder computes it for every
held-out document. SageMaker's NTM logs each topic's top words at the end of training
("Topics from epoch:final", AWS's blog post on NTM's auxiliary vocabulary channel) but does not
publish how it ranks them; AWS's example notebook plots the softmax of each column of the
decoder's weights (``arg:projection_weight``), which leaves out the background bias and, with
batch norm, the normalisation: under a batch norm a word's weights count only relative to their
mean and spread over the documents, which the normalisation removes, so their raw values rank
words by how far training happened to move them.

Loss per document: the negative log-likelihood of its word counts under the decoder's
distribution, plus the KL divergence of the encoder's Gaussian from the standard normal prior.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
}
# MXNet's BatchNorm default epsilon (PyTorch's is 1e-5), added to the batch variance. A unit
# whose inputs barely vary over the documents (a saturated sigmoid encoder) has a batch
# variance near 1e-5; dividing by its square root magnifies differences that the moving
# average used at evaluation does not track, and the posterior means of held-out documents
# explode (a validation KL divergence in the thousands while the training loss is fine).
BATCH_NORM_EPSILON = 1e-3
# exp(logvar) beyond this overflows float32 gradients long before it means anything.
LOGVAR_LIMIT = 10.0


class NeuralTopicModel(nn.Module):
    def __init__(
        self,
        vocabulary_size: int,
        num_topics: int,
        hidden_sizes: Sequence[int],
        activation: str = "sigmoid",
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.vocabulary_size = vocabulary_size
        self.num_topics = num_topics
        layers: list[nn.Module] = []
        width = vocabulary_size
        for size in hidden_sizes:
            layers.append(nn.Linear(width, size))
            if batch_norm:
                layers.append(nn.BatchNorm1d(size, eps=BATCH_NORM_EPSILON))
            layers.append(ACTIVATIONS[activation]())
            width = size
        self.encoder = nn.Sequential(*layers)
        self.mean = nn.Linear(width, num_topics)
        self.logvar = nn.Linear(width, num_topics)
        self.decoder = nn.Linear(num_topics, vocabulary_size)
        self.batch_norm = batch_norm
        self.mean_norm: nn.Module = (
            nn.BatchNorm1d(num_topics, eps=BATCH_NORM_EPSILON, affine=False)
            if batch_norm
            else nn.Identity()
        )
        self.logvar_norm: nn.Module = (
            nn.BatchNorm1d(num_topics, eps=BATCH_NORM_EPSILON, affine=False)
            if batch_norm
            else nn.Identity()
        )
        self.decoder_norm: nn.Module = (
            nn.BatchNorm1d(vocabulary_size, eps=BATCH_NORM_EPSILON, affine=False)
            if batch_norm
            else nn.Identity()
        )

    def set_background(self, word_counts: torch.Tensor) -> None:
        """Start the decoder bias at the log word frequencies of the training corpus."""
        frequencies = (word_counts + 1.0) / (word_counts.sum() + word_counts.numel())
        with torch.no_grad():
            self.decoder.bias.copy_(frequencies.log())

    def _affine(self, layer: nn.Linear, norm: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        """``layer(inputs)``; with batch norm, the bias is added after normalising the rest."""
        if not self.batch_norm:
            return layer(inputs)
        return norm(nn.functional.linear(inputs, layer.weight)) + layer.bias

    def encode(self, counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(counts)
        mean = self._affine(self.mean, self.mean_norm, hidden)
        logvar = self._affine(self.logvar, self.logvar_norm, hidden)
        return mean, logvar.clamp(-LOGVAR_LIMIT, LOGVAR_LIMIT)

    def word_log_probabilities(self, proportions: torch.Tensor) -> torch.Tensor:
        logits = self._affine(self.decoder, self.decoder_norm, proportions)
        return torch.log_softmax(logits, dim=1)

    def forward(
        self, counts: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-document reconstruction loss and KL divergence.

        In training mode z is sampled (the reparameterisation trick); in eval mode z is the
        posterior mean, so validation losses are deterministic.
        """
        mean, logvar = self.encode(counts)
        if self.training:
            noise = torch.randn(
                mean.shape, generator=generator, device=mean.device, dtype=mean.dtype
            )
            z = mean + noise * torch.exp(0.5 * logvar)
        else:
            z = mean
        proportions = torch.softmax(z, dim=1)
        reconstruction = -(counts * self.word_log_probabilities(proportions)).sum(dim=1)
        kl = -0.5 * (1.0 + logvar - mean.pow(2) - logvar.exp()).sum(dim=1)
        return reconstruction, kl

    def topic_word(self) -> torch.Tensor:
        """K x V: each topic's distribution over words, as the decoder defines it.

        Row k is the word distribution the trained decoder gives a document made of topic k
        alone (topic proportions ``e_k``), in evaluation mode: with ``batch_norm``, each word's
        logit is normalised by the moving mean and variance, as for every held-out document,
        before the learned shift is added (why not the weights alone: the module's docstring).
        The model's mode and its moving statistics are left as they were.
        """
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                pure = torch.eye(
                    self.num_topics,
                    device=self.decoder.weight.device,
                    dtype=self.decoder.weight.dtype,
                )
                return self.word_log_probabilities(pure).exp()
        finally:
            self.train(was_training)

    def topic_proportions(self, counts: torch.Tensor) -> torch.Tensor:
        mean, _ = self.encode(counts)
        return torch.softmax(mean, dim=1)
