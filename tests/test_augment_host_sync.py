"""No host sync in a training step's batch preparation (issue 26, item 1).

The paper's recipe (Kim et al., ECCV-W 2020, Section 4.1) augments the GPU batch every
iteration: RandAugment-T (Section 3.1), then a deleting or mixing method (Section 3.2). Every
parameter is drawn on a CPU generator; these tests run a whole ``training_batch`` on
``DeviceTensor`` s (``tests/_host_sync.py``), which raise wherever CUDA would make the host wait:
a read of a device value, a data-dependent output size, a host tensor used in a device op, or a
host -> device copy that is not pinned and non-blocking.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from _host_sync import (
    FAKE_DEVICE,
    DeviceTensor,
    HostSyncDetector,
    HostSyncError,
    as_device,
    as_host,
)
from conftest import make_video_batch, requires_cuda

from tempaug.augment import METHODS, MIXING_METHODS, RandAugmentT, build, functional, one_hot
from tempaug.augment._device import to_device
from tempaug.augment._labels import one_hot_unchecked
from tempaug.augment._ops_table import OP_NAMES
from tempaug.augment.randaugment_t import MODES
from tempaug.train import soft_target_loss, training_batch
from tempaug.train.config import DataConfig
from tempaug.train.trainer import NonFiniteLossError, _host_checked, _Trainer

K = 3
SEEDS = range(3)


def _step(method: str, ra_mode: str | None, seed: int, *, traced: bool, **mix_kwargs):
    clips = make_video_batch(4, 8, 3, 16, 16, dtype=torch.uint8, seed=seed)
    labels = torch.tensor([0, 1, 2, 1])
    mixer = build(method, num_classes=K, **mix_kwargs) if method != "none" else None
    randaug = RandAugmentT(num_ops=2, magnitude=9, mode=ra_mode) if ra_mode else None
    kwargs = {
        "data": DataConfig(),
        "num_classes": K,
        "randaugment": randaug,
        "mixer": mixer,
        "generator": torch.Generator().manual_seed(seed),
    }
    if not traced:
        return training_batch(clips, labels, device=torch.device("cpu"), **kwargs), 0
    with HostSyncDetector() as detector:
        x, t = training_batch(as_device(clips), as_device(labels), device=FAKE_DEVICE, **kwargs)
    assert isinstance(x, type(as_device(clips))) and isinstance(t, type(x))
    return (as_host(x), as_host(t)), detector.transfers


@pytest.mark.parametrize("method", METHODS)
def test_training_step_never_waits_on_the_host(method):
    """Every method of Table 1: no sync, one parameter transfer, the CPU path's numbers."""
    modes = ("batch", "elem") if method in MIXING_METHODS else ("batch",)
    for mode in modes:
        kw = {"mode": mode} if method in MIXING_METHODS else {}
        for seed in SEEDS:
            (x, t), transfers = _step(method, None, seed, traced=True, **kw)
            (ref_x, ref_t), _ = _step(method, None, seed, traced=False, **kw)
            torch.testing.assert_close(x, ref_x, rtol=0, atol=0)
            torch.testing.assert_close(t, ref_t, rtol=0, atol=0)
            assert transfers == (0 if method == "none" else 1), (method, mode, transfers)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("method", ["none", "cubecutout", "cutmix", "fademixup", "cutmixup"])
def test_device_randaugment_t_never_waits_on_the_host(mode, method, monkeypatch):
    """RandAugment-T on the device batch (Table 2 modes), alone and before a method."""
    # The reference takes the torch kernels too (a CPU uint8 batch would take OpenCV's).
    monkeypatch.setattr(functional, "_opencv_applies", lambda *args, **kwargs: False)
    for seed in SEEDS:
        (x, t), _ = _step(method, mode, seed, traced=True)
        (ref_x, ref_t), _ = _step(method, mode, seed, traced=False)
        torch.testing.assert_close(x, ref_x, rtol=0, atol=0)
        torch.testing.assert_close(t, ref_t, rtol=0, atol=0)


@pytest.mark.parametrize("op", OP_NAMES)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_every_randaugment_op_never_waits_on_the_host(op, dtype):
    """Each of the 14 operations on its own (a mode draws only some of them per seed)."""
    clips = make_video_batch(4, 8, 3, 16, 16, dtype=dtype)
    aug = RandAugmentT(num_ops=2, ops=[op], mode="temporal+")
    with HostSyncDetector():
        aug(as_device(clips), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    "action",
    [
        lambda d, h: int(d[0]),
        lambda d, h: bool(d.any()),
        lambda d, h: d.sum().item(),
        lambda d, h: d.tolist(),
        lambda d, h: d.cpu(),
        lambda d, h: d.to("cpu"),
        lambda d, h: d.nonzero(),
        lambda d, h: torch.unique(d),
        lambda d, h: d[d > 0],
        lambda d, h: d + h,
        lambda d, h: d.index_select(0, h),
        lambda d, h: h.to(FAKE_DEVICE),
        lambda d, h: h.to(FAKE_DEVICE, non_blocking=True),  # not pinned
        lambda d, h: torch.tensor([1, 2], device=FAKE_DEVICE),
    ],
)
def test_the_detector_catches_each_kind_of_sync(action):
    """Guards the guard: each of these blocks the host on CUDA, so each must raise here."""
    device_values, host_values = as_device(torch.tensor([1, 0, 2])), torch.tensor([0, 1, 2])
    with HostSyncDetector(), pytest.raises(HostSyncError):
        action(device_values, host_values)


def test_the_detector_lets_through_what_cuda_does_not_wait_for():
    d, h = as_device(torch.tensor([1.0, 0.0, 2.0])), torch.tensor([0, 1, 2])
    with HostSyncDetector() as detector:
        moved = h.pin_memory().to(FAKE_DEVICE, non_blocking=True)
        out = d.index_select(0, moved) * torch.tensor(2.0) + torch.arange(3, device=d.device)
    assert detector.transfers == 1
    assert as_host(out).tolist() == [2.0, 1.0, 6.0]


def test_labels_are_checked_on_the_host_before_the_transfer():
    """The trainer validates labels on the CPU (the device path uses the unchecked one-hot)."""
    batches = [(torch.zeros(2, 1), torch.tensor([0, 2])), (torch.zeros(2, 1), torch.tensor([3, 0]))]
    checked = _host_checked(batches, K)
    assert next(checked) is batches[0]
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\).*\[0, 3\]"):
        next(checked)


def test_public_one_hot_keeps_its_checks_the_trainer_path_does_not_read():
    """Direct callers of ``one_hot`` still get the range check, on any device (it reads)."""
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\)"):
        one_hot(torch.tensor([0, 3]), K)
    with HostSyncDetector(), pytest.raises(HostSyncError):
        one_hot(as_device(torch.tensor([0, 1])), K)
    with HostSyncDetector():
        out = one_hot_unchecked(as_device(torch.tensor([0, 2])), K)
    assert as_host(out).tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]


@requires_cuda
@pytest.mark.parametrize("ra_mode", [None, *MODES])
@pytest.mark.parametrize("method", METHODS)
def test_cuda_training_step_under_sync_debug_mode(method, ra_mode):
    """On a GPU: batch prep, loss and its bookkeeping raise under sync debug mode "error"."""
    dev = torch.device("cuda")
    clips = make_video_batch(4, 8, 3, 32, 32, dtype=torch.uint8).pin_memory()
    labels = torch.tensor([0, 1, 2, 1]).pin_memory()
    mixer = build(method, num_classes=K) if method != "none" else None
    randaug = RandAugmentT(num_ops=2, mode=ra_mode) if ra_mode else None
    logits_w = torch.randn(3 * 32 * 32, K, device=dev, requires_grad=True)
    loss_sum = torch.zeros((), dtype=torch.float64, device=dev)
    correct = torch.zeros((), dtype=torch.int64, device=dev)
    for seed in SEEDS:
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            x, t = training_batch(
                clips.to(dev, non_blocking=True),
                labels.to(dev, non_blocking=True),
                device=dev,
                data=DataConfig(),
                num_classes=K,
                randaugment=randaug,
                mixer=mixer,
                generator=torch.Generator().manual_seed(seed),
            )
            logits = x.mean(1).flatten(1) @ logits_w
            loss = soft_target_loss(logits, t)
            loss.backward()
            with torch.no_grad():
                loss_sum += loss.detach().double() * x.shape[0]
                correct += (logits.argmax(1) == t.argmax(1)).sum()
        finally:
            torch.cuda.set_sync_debug_mode("default")
        (ref_x, ref_t), _ = _step(method, ra_mode, seed, traced=False)
        torch.testing.assert_close(t.cpu(), ref_t)
        if ra_mode is None:
            torch.testing.assert_close(x.cpu(), ref_x)


def _loss_queue_owner() -> SimpleNamespace:
    return SimpleNamespace(
        ctx=SimpleNamespace(distributed=False), last_saved=None, steps_per_epoch=9
    )


def test_loss_check_names_the_first_non_finite_step():
    """Loss bookkeeping (trainer): queued losses are checked in order, the bad step is named."""
    owner, pending = _loss_queue_owner(), []
    for step, value in enumerate([1.0, float("nan"), 2.0]):
        _Trainer._queue_loss(owner, pending, 0, step, torch.tensor(value))
    with pytest.raises(NonFiniteLossError, match=r"at epoch 1, step 2 of 9"):
        _Trainer._check_finite(owner, pending, wait=False)
    assert len(pending) == 1  # the step after the bad one was not read


@requires_cuda
def test_cuda_loss_bookkeeping_never_waits_on_the_host():
    owner, pending = _loss_queue_owner(), []
    loss = torch.ones((), device="cuda") * 3.0
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in range(3):
            _Trainer._queue_loss(owner, pending, 0, step, loss * step)
            _Trainer._check_finite(owner, pending, wait=False)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    _Trainer._check_finite(owner, pending, wait=True)
    assert pending == []


def test_to_device_sends_every_dtype_in_one_aligned_copy():
    """One transfer for any mix of dtypes/shapes (odd byte sizes need the 8-byte padding)."""
    tensors = [
        torch.tensor([True, False, True]),
        torch.arange(5, dtype=torch.uint8),
        torch.tensor([[3, -1], [7, 2**40]]),
        torch.tensor(0.25, dtype=torch.float64),
        torch.zeros(0, 6, dtype=torch.int64),
        torch.linspace(0, 1, 7, dtype=torch.float32),
        torch.tensor([1.5, -2.0], dtype=torch.float16),
    ]
    with HostSyncDetector() as detector:
        moved = to_device(*tensors, device=FAKE_DEVICE)
    assert detector.transfers == 1
    for before, after in zip(tensors, moved, strict=True):
        assert isinstance(after, DeviceTensor)
        after = as_host(after)
        assert after.dtype == before.dtype and after.shape == before.shape
        assert torch.equal(after, before)
    assert to_device(device=FAKE_DEVICE) == ()


@pytest.mark.parametrize(
    "mean,std", [((0.45,) * 3, (0.225,) * 3), ((0.4, 0.5, 0.6), (0.2, 0.25, 0.3))]
)
def test_normalize_makes_no_host_sync(mean, std):
    """Per-channel statistics used to travel by a blocking ``torch.tensor(..., device=)``."""
    from tempaug.data.transforms import normalize

    clips = torch.randint(0, 256, (2, 4, 3, 8, 8), dtype=torch.uint8)
    with HostSyncDetector():
        out = normalize(as_device(clips), mean, std)
    ref = (clips.float() / 255 - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    torch.testing.assert_close(out.as_subclass(torch.Tensor), ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "mean,std", [((0.45,) * 3, (0.225,) * 3), ((0.4, 0.5, 0.6), (0.2, 0.25, 0.3))]
)
def test_denormalize_makes_no_host_sync(mean, std):
    """Its statistics used to travel by a blocking ``torch.tensor(..., device=)`` as well."""
    from tempaug.data.transforms import denormalize

    clips = torch.randn(2, 4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    with HostSyncDetector():
        out = denormalize(as_device(clips), mean, std)
    ref = clips * torch.tensor(std).view(3, 1, 1) + torch.tensor(mean).view(3, 1, 1)
    assert torch.equal(out.as_subclass(torch.Tensor), ref)
