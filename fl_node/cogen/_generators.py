"""Label-conditioned generators a silo trains on its own data: a conditional VAE and a GMM baseline.

Both model the features as :mod:`fl_node.data` delivers them (standardized with the training
split's statistics), so synthetic and real samples mix without rescaling. A generator can only
produce classes it has seen at least ``min_class_samples`` times (:attr:`available`); asking for
another class is an error, which :func:`fl_node.cogen.synthetic_counts` avoids with its
``available`` argument.

Timings are CPU seconds of this process (``time.process_time``), the quantity a price per
CPU-second applies to (:mod:`fl_node.cogen._cost`); run with one torch thread for stable numbers.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from sklearn.mixture import GaussianMixture
from torch import nn

from fl_node.data import ArrayDataset

__all__ = [
    "GENERATOR_KINDS",
    "CVAEGenerator",
    "ClassConditionalGenerator",
    "GMMGenerator",
    "GeneratorError",
    "make_generator",
]

GENERATOR_KINDS = ("cvae", "gmm")


class GeneratorError(ValueError):
    """A generator cannot be trained or cannot produce what was asked (message says why)."""


class ClassConditionalGenerator(ABC):
    """Trained on one silo's data; generates samples of the classes it has seen.

    Attributes
    ----------
    n_classes : int
    class_counts : ndarray of int
        Label counts of the training data (set by :meth:`fit`).
    fit_seconds : float
        CPU seconds of the last :meth:`fit`.
    """

    kind = "abstract"

    def __init__(self, n_classes: int, *, min_class_samples: int = 2) -> None:
        if n_classes < 1:
            raise GeneratorError(f"n_classes must be >= 1; got {n_classes}")
        if min_class_samples < 1:
            raise GeneratorError(f"min_class_samples must be >= 1; got {min_class_samples}")
        self.n_classes = int(n_classes)
        self.min_class_samples = int(min_class_samples)
        self.class_counts = np.zeros(n_classes, dtype=np.int64)
        self.fit_seconds = 0.0
        self._fitted = False
        self._features = 0

    @property
    def available(self) -> NDArray[np.bool_]:
        """Classes this generator can produce (seen at least ``min_class_samples`` times)."""
        return np.asarray(self.class_counts >= self.min_class_samples, dtype=bool)

    def fit(self, data: ArrayDataset, *, seed: int = 0) -> ClassConditionalGenerator:
        """Train on ``data`` (the silo's own samples only); returns ``self``."""
        if len(data) == 0:
            raise GeneratorError("the silo has no samples to train a generator on")
        if int(data.y.max()) >= self.n_classes or int(data.y.min()) < 0:
            raise GeneratorError(
                f"labels must be in 0..{self.n_classes - 1}; got {int(data.y.min())}.."
                f"{int(data.y.max())}"
            )
        self.class_counts = np.bincount(data.y, minlength=self.n_classes).astype(np.int64)
        if not self.available.any():
            raise GeneratorError(
                f"no class has {self.min_class_samples} samples in this silo; lower "
                "min_class_samples or give the silo more data"
            )
        self._features = int(data.x.shape[1])
        start = time.process_time()
        self._fit(data, seed)
        self.fit_seconds = time.process_time() - start
        self._fitted = True
        return self

    def generate(self, counts_per_class: ArrayLike, *, seed: int = 0) -> ArrayDataset:
        """``counts_per_class[k]`` synthetic samples of class ``k``, labels included."""
        if not self._fitted:
            raise GeneratorError("the generator is not trained; call fit(data) first")
        counts = np.asarray(counts_per_class)
        if counts.shape != (self.n_classes,) or np.any(counts < 0):
            raise GeneratorError(
                f"counts_per_class must be {self.n_classes} non-negative counts; got "
                f"{counts.tolist()}"
            )
        counts = counts.astype(np.int64)
        bad = np.flatnonzero((counts > 0) & ~self.available)
        if bad.size:
            raise GeneratorError(
                f"class(es) {bad.tolist()} were seen fewer than {self.min_class_samples} times "
                "by this silo's generator and cannot be generated; restrict the allocation to "
                "generator.available"
            )
        parts = [self._sample(int(k), int(n), seed) for k, n in enumerate(counts) if n > 0]
        x = (
            np.concatenate(parts).astype(np.float32)
            if parts
            else np.zeros((0, self._features), dtype=np.float32)
        )
        y = np.repeat(np.arange(self.n_classes, dtype=np.int64), counts)
        return ArrayDataset(x=x, y=y)

    @abstractmethod
    def _fit(self, data: ArrayDataset, seed: int) -> None: ...

    @abstractmethod
    def _sample(self, label: int, n: int, seed: int) -> NDArray[np.float32]: ...


class _CVAE(nn.Module):
    def __init__(self, n_features: int, n_classes: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.enc = nn.Sequential(nn.Linear(n_features + n_classes, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.dec = nn.Sequential(
            nn.Linear(latent + n_classes, hidden), nn.ReLU(), nn.Linear(hidden, n_features)
        )

    def decode(self, z: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.dec(torch.cat([z, onehot], dim=1))
        return out

    def forward(
        self, x: torch.Tensor, onehot: torch.Tensor, eps: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.enc(torch.cat([x, onehot], dim=1))
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * eps
        return self.decode(z, onehot), mu, logvar


class CVAEGenerator(ClassConditionalGenerator):
    """A small conditional VAE (one hidden layer each way, Gaussian decoder) in torch.

    Parameters
    ----------
    n_classes : int
    epochs : int
        Passes over the silo's data (Adam, lr 2e-3, batch 64).
    hidden, latent : int
        Hidden width and latent dimension.
    min_class_samples : int
    """

    kind = "cvae"

    def __init__(
        self,
        n_classes: int,
        *,
        epochs: int = 150,
        hidden: int = 128,
        latent: int = 8,
        batch_size: int = 64,
        lr: float = 2e-3,
        min_class_samples: int = 2,
    ) -> None:
        super().__init__(n_classes, min_class_samples=min_class_samples)
        if epochs < 1 or hidden < 1 or latent < 1 or batch_size < 1 or not lr > 0:
            raise GeneratorError(
                "epochs, hidden, latent and batch_size must be >= 1 and lr > 0; got "
                f"epochs={epochs} hidden={hidden} latent={latent} batch_size={batch_size} lr={lr}"
            )
        self.epochs = epochs
        self.hidden = hidden
        self.latent = latent
        self.batch_size = batch_size
        self.lr = lr
        self._net: _CVAE | None = None

    def _onehot(self, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(y, self.n_classes).to(torch.float32)

    def _fit(self, data: ArrayDataset, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = _CVAE(data.x.shape[1], self.n_classes, self.hidden, self.latent)
        x = torch.from_numpy(np.ascontiguousarray(data.x))
        y = torch.from_numpy(np.ascontiguousarray(data.y))
        opt = torch.optim.Adam(net.parameters(), lr=self.lr)
        n = x.shape[0]
        net.train()
        for _ in range(self.epochs):
            order = torch.randperm(n, generator=gen)
            for lo in range(0, n, self.batch_size):
                b = order[lo : lo + self.batch_size]
                eps = torch.randn(b.shape[0], self.latent, generator=gen)
                recon, mu, logvar = net(x[b], self._onehot(y[b]), eps)
                rec = ((recon - x[b]) ** 2).sum(dim=1)
                kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(dim=1)
                loss = (rec + kl).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        net.eval()
        self._net = net

    def _sample(self, label: int, n: int, seed: int) -> NDArray[np.float32]:
        assert self._net is not None
        gen = torch.Generator().manual_seed(seed * 1009 + label)
        z = torch.randn(n, self.latent, generator=gen)
        onehot = self._onehot(torch.full((n,), label, dtype=torch.int64))
        with torch.no_grad():
            out = self._net.decode(z, onehot)
        return np.asarray(out.numpy(), dtype=np.float32)


class GMMGenerator(ClassConditionalGenerator):
    """One diagonal Gaussian mixture per class (scikit-learn): the fast baseline.

    Parameters
    ----------
    n_classes : int
    components : int
        Mixture components per class (fewer when a class has fewer samples).
    reg_covar : float
        Variance floor added to every diagonal entry (standardized units).
    min_class_samples : int
    """

    kind = "gmm"

    def __init__(
        self,
        n_classes: int,
        *,
        components: int = 3,
        reg_covar: float = 0.05,
        min_class_samples: int = 2,
    ) -> None:
        super().__init__(n_classes, min_class_samples=min_class_samples)
        if components < 1 or not reg_covar > 0:
            raise GeneratorError(
                f"components must be >= 1 and reg_covar > 0; got {components}, {reg_covar}"
            )
        self.components = components
        self.reg_covar = reg_covar
        self._models: dict[int, GaussianMixture] = {}

    def _fit(self, data: ArrayDataset, seed: int) -> None:
        self._models = {}
        for k in np.flatnonzero(self.available):
            xk = data.x[data.y == k].astype(np.float64)
            gm = GaussianMixture(
                n_components=min(self.components, xk.shape[0] // 2 or 1),
                covariance_type="diag",
                reg_covar=self.reg_covar,
                random_state=seed,
            )
            self._models[int(k)] = gm.fit(xk)

    def _sample(self, label: int, n: int, seed: int) -> NDArray[np.float32]:
        gm = self._models[label]
        rng = np.random.default_rng([seed, label])
        comp = rng.choice(gm.n_components, size=n, p=gm.weights_)
        mean = gm.means_[comp]
        std = np.sqrt(gm.covariances_[comp])
        return np.asarray(mean + std * rng.standard_normal(mean.shape), dtype=np.float32)


def make_generator(kind: str, n_classes: int, **options: Any) -> ClassConditionalGenerator:
    """A new (untrained) generator by name: ``"cvae"`` or ``"gmm"``, with its options."""
    if kind == "cvae":
        return CVAEGenerator(n_classes, **options)
    if kind == "gmm":
        return GMMGenerator(n_classes, **options)
    raise GeneratorError(f"unknown generator kind {kind!r}; use one of {GENERATOR_KINDS}")
