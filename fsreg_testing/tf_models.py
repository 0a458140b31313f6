"""Models and helpers shared by the TensorFlow flavor cases (tests/flavor_tensorflow_cases.py,
tests/flavor_tensorflow_mlflow_cases.py). Imports TensorFlow: only those cases, run inside the
cached TensorFlow venv (:mod:`fsreg_testing.tf_env`), import it."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

__all__ = ["TENSOR_3", "Linear", "data", "keras_mlp", "mlp", "native"]

#: A signature's inputs: one float32 tensor [-1, 3], as ``Schema.to_dict`` gives it.
TENSOR_3 = [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]


def data(n: int = 24, seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3)).astype("float32")


def keras_mlp(seed: int = 0) -> Any:
    """A 3 -> 8 (tanh) -> 1 MLP, trained 3 epochs on random data."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse")
    X = data(64, seed=seed + 10)
    model.fit(
        X, X @ np.array([1.0, -2.0, 0.5], "float32") + 0.1, epochs=3, batch_size=16, verbose=0
    )
    return model


class Linear(tf.Module):
    """y = x @ w + b on [N, 3] float32."""

    def __init__(self) -> None:
        super().__init__()
        self.w = tf.Variable([[0.5], [-1.25], [2.0]])
        self.b = tf.Variable([0.25])

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def __call__(self, x: Any) -> Any:
        return tf.matmul(x, self.w) + self.b


def native(model: Any, X: np.ndarray) -> list[float]:
    if isinstance(model, keras.Model):
        return model.predict(X, verbose=0).reshape(-1).tolist()
    if hasattr(model, "serve"):  # an exported Keras model
        return model.serve(X).numpy().reshape(-1).tolist()
    return model(tf.constant(X)).numpy().reshape(-1).tolist()


@pytest.fixture(scope="module")
def mlp() -> Any:
    """The trained MLP of :func:`keras_mlp`, one per test module."""
    return keras_mlp()
