"""The pyfunc implementation of a PyTorch model (MLflow's ``_PyTorchWrapper`` contract).

``predict(data, params=None)``: a DataFrame is converted to one ``float32`` array, a numpy array
is used as is; the array becomes a tensor on the wrapper's device and the model runs under
``torch.no_grad()`` with ``params`` as keyword arguments. The output must be one tensor; it is
copied back to the CPU and returned as a DataFrame (the input's index) for DataFrame input, an
array otherwise. ``params`` may not set ``device`` (it is fixed at load time, as in MLflow).
Other input types, a non-tensor output and a model that fails on the input are
``InvalidParameterValue`` (MLflow: ``TypeError``/``ValueError`` or torch's own error).
"""

from __future__ import annotations

from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue


class TorchModelWrapper(kit.ModelWrapper):
    """pyfunc on an ``nn.Module`` placed on ``device``; ``get_raw_model()`` is the module."""

    def __init__(self, model: Any, device: str) -> None:
        super().__init__(model)
        self.device = device

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        from fsregistry.pytorch.loading import FLAVOR

        if params and "device" in params:
            raise InvalidParameterValue(
                "device' can no longer be specified as an inference parameter. It must be "
                "specified at load time. Please specify the device at load time, for example: "
                "`mlflow.pyfunc.load_model(model_uri, model_config={'device': 'cuda'})`."
            )
        if isinstance(data, pd.DataFrame):
            array = data.to_numpy(dtype=np.float32)
        elif isinstance(data, np.ndarray):
            array = data
        elif isinstance(data, list | dict):
            raise InvalidParameterValue(
                "The PyTorch flavor does not support List or Dict input types. "
                "Please use a pandas.DataFrame or a numpy.ndarray"
            )
        else:
            raise InvalidParameterValue(
                f"Input data should be pandas.DataFrame or numpy.ndarray, got {type(data)}"
            )
        torch = FLAVOR.require()
        if not array.flags.writeable:  # torch warns on (and must not write to) read-only data
            array = array.copy()
        with torch.no_grad():
            try:
                preds = self.model(torch.from_numpy(array).to(self.device), **(params or {}))
            except (RuntimeError, TypeError, ValueError, IndexError) as exc:
                raise InvalidParameterValue(
                    f"The PyTorch model cannot run on this input: {type(exc).__name__}: {exc}"
                ) from None
        if not isinstance(preds, torch.Tensor):
            raise InvalidParameterValue(
                "Expected PyTorch model to output a single output tensor, but got output of "
                f"type '{type(preds)}'"
            )
        out = preds.to("cpu").numpy()
        if isinstance(data, pd.DataFrame):
            frame = pd.DataFrame(out)
            frame.index = data.index
            return frame
        return out
