"""vae: a model compiled by vaec, from Python, on NumPy arrays.

Pure Python (ctypes and NumPy), no build step: put runtime/python on
PYTHONPATH (or copy this file) and

    import vae
    model = vae.Model("vae.so")                   # a library built by `vaec MODEL.vdl -o vae.so`
    model.load_checkpoint("run/checkpoint.bin")   # or model.init(seed=1)
    mu, logvar = model.encode(x)                  # x: [n, *model.input_shape], any n;
                                                  # uint8 is divided by 255, as vae-train does
    logits = model.decode(mu)                     # the decoder's outputs (see decode)
    neg_elbo, reconstruction, kl = model.score(x) # per example, vae-train's noise
    images = model.sample(16, seed=1)             # the decoder's means at prior draws
    loss, reconstruction, kl = model.train_step(x_batch)   # one optimizer step, in place
    blob = model.compress(x)                      # lossless, bits-back ANS: a .vaez file's bytes
    assert (model.decompress(blob) == x).all()    # (needs libvaez.so: see compress)

The entry points take exactly `model.batch` examples; these functions take
any number, padding the last batch. Shapes and names come from the
library's descriptor (`vae_model` in runtime/include/vae/abi.h):
`model.parameters()` maps "encoder.h.weight" and the like to NumPy views of
the parameter buffer. Noise and sampling use the runtime's Philox streams,
so score() and sample() agree with `vae-train score` and `vae-train sample`
on the same checkpoint.
"""

import ctypes
import hashlib
import os

import numpy as np

__all__ = ["Model", "ModelError", "eval_noise", "prior_noise", "ABI_VERSION"]

ABI_VERSION = 7
_MAX_RANK = 4
_ALIGNMENT = 64
_LIKELIHOODS = {1: "bernoulli", 2: "gaussian", 3: "gaussian_fixed", 4: "discretized_logistic"}
_OPTIMIZERS = {1: "adam", 2: "sgd", 3: "adamw"}


class ModelError(Exception):
    """A library or checkpoint that cannot be used, with the reason."""


class _Hyperparams(ctypes.Structure):
    _fields_ = [("lr", ctypes.c_float), ("kl_weight", ctypes.c_float),
                ("beta1", ctypes.c_float), ("beta2", ctypes.c_float),
                ("eps", ctypes.c_float), ("momentum", ctypes.c_float),
                ("weight_decay", ctypes.c_float), ("clip_norm", ctypes.c_float)]


class _Param(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("offset", ctypes.c_int64),
                ("size", ctypes.c_int64), ("rank", ctypes.c_int32),
                ("init", ctypes.c_int32), ("shape", ctypes.c_int64 * _MAX_RANK),
                ("init_bound", ctypes.c_double)]


class _Desc(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_uint32), ("struct_size", ctypes.c_uint32),
                ("name", ctypes.c_char_p), ("batch", ctypes.c_int64),
                ("input_rank", ctypes.c_int32), ("likelihood", ctypes.c_int32),
                ("input_shape", ctypes.c_int64 * _MAX_RANK), ("input_size", ctypes.c_int64),
                ("latent_size", ctypes.c_int64), ("decode_outputs", ctypes.c_int64),
                ("likelihood_sigma", ctypes.c_double), ("num_params", ctypes.c_int64),
                ("params", ctypes.POINTER(_Param)), ("param_floats", ctypes.c_int64),
                ("opt_state_floats", ctypes.c_int64), ("arena_bytes", ctypes.c_int64),
                ("beta", ctypes.c_double), ("warmup_epochs", ctypes.c_int64),
                ("epochs", ctypes.c_int64), ("seed", ctypes.c_int64),
                ("prior_mean", ctypes.c_double), ("prior_std", ctypes.c_double),
                ("fingerprint", ctypes.c_char_p), ("optimizer", ctypes.c_int32),
                ("clips_gradients", ctypes.c_int32), ("defaults", _Hyperparams),
                ("lr_schedule", ctypes.c_int32), ("patience", ctypes.c_int32),
                ("lr_warmup_epochs", ctypes.c_double), ("lr_min", ctypes.c_double),
                ("lr_step_epochs", ctypes.c_double), ("lr_gamma", ctypes.c_double),
                ("val_fraction", ctypes.c_double), ("device", ctypes.c_int32),
                ("gpu_arch", ctypes.c_int32), ("likelihood_bins", ctypes.c_int64)]


# Philox4x32-10 (runtime/include/vae/philox.h), vectorized over counters.
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
_LOW = np.uint64(0xFFFFFFFF)


def _philox(c0, c1, c2, c3, seed):
    """Four uint32 arrays of counters -> four uint32 arrays of outputs."""
    c = [np.asarray(v, dtype=np.uint64) & _LOW for v in (c0, c1, c2, c3)]
    c = np.broadcast_arrays(*c)
    c = [v.copy() for v in c]
    k0, k1 = seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF
    for _ in range(10):
        p0 = _M0 * c[0]
        p1 = _M1 * c[2]
        c = [((p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0)) & _LOW, p1 & _LOW,
             ((p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1)) & _LOW, p0 & _LOW]
        k0, k1 = (k0 + _W0) & 0xFFFFFFFF, (k1 + _W1) & 0xFFFFFFFF
    return [v.astype(np.uint32) for v in c]


def _normal_stream(seed, epoch, step, first, count):
    """Elements [first, first + count) of the runtime's standard normal
    stream for (seed, epoch, step): Box-Muller on Philox, four per call
    (runtime/Data.cpp, fillNoise)."""
    blocks = np.arange(first // 4, (first + count + 3) // 4, dtype=np.uint64)
    w = _philox(blocks, step, epoch, 1, seed)  # stream 1: noise
    out = np.empty((len(blocks), 4), dtype=np.float32)
    for pair in range(2):
        u1 = ((w[2 * pair] >> np.uint32(8)).astype(np.float32) + np.float32(1)) * np.float32(2**-24)
        u2 = (w[2 * pair + 1] >> np.uint32(8)).astype(np.float32) * np.float32(2**-24)
        r = np.sqrt(np.float32(-2) * np.log(u1))
        angle = np.float32(2 * np.pi) * u2
        out[:, 2 * pair] = r * np.cos(angle)
        out[:, 2 * pair + 1] = r * np.sin(angle)
    start = first - (first // 4) * 4
    return out.reshape(-1)[start:start + count]


_EVAL_NOISE_KEY = 0x5EED5EED
_SAMPLE_KEY = 0x5A3B1E5


def eval_noise(seed, first, n, latent_size):
    """The noise vae-train's evaluation (eval, score) gives examples
    [first, first + n): [n, latent_size] float32."""
    values = _normal_stream(seed ^ _EVAL_NOISE_KEY, 0xFFFFFFFF, 0, first * latent_size,
                            n * latent_size)
    return values.reshape(n, latent_size)


def prior_noise(seed, n, latent_size):
    """The standard normal draws of `vae-train sample --n n`: [n, latent_size]."""
    return _normal_stream(seed ^ _SAMPLE_KEY, 0xFFFFFFFE, 0, 0, n * latent_size).reshape(
        n, latent_size)


def _aligned(count, dtype=np.float32):
    """A zeroed 1-D array of `count` elements whose data start on a 64-byte
    boundary (the entry points' contract)."""
    itemsize = np.dtype(dtype).itemsize
    raw = np.zeros(count * itemsize + _ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % _ALIGNMENT
    return raw[offset:offset + count * itemsize].view(dtype)


def _ptr(array):
    return array.ctypes.data_as(ctypes.c_void_p)


_MACHINES = {62: "x86-64", 183: "aarch64", 243: "riscv", 21: "ppc64"}
_HOST_MACHINE = {"x86_64": 62, "aarch64": 183}.get(os.uname().machine)


def _check_machine(path):
    """As vaec's runtime: a library for another architecture is named as one
    (ctypes says only "cannot open shared object file")."""
    try:
        with open(path, "rb") as f:
            header = f.read(20)
    except OSError:
        return  # ctypes reports it
    if len(header) < 20 or header[:4] != b"\x7fELF" or _HOST_MACHINE is None:
        return
    machine = int.from_bytes(header[18:20], "little")
    if machine != _HOST_MACHINE:
        name = _MACHINES.get(machine, f"ELF machine {machine}")
        raise ModelError(f"cannot load '{path}': it is a library for {name}, and this machine "
                         f"runs {_MACHINES[_HOST_MACHINE]}: compile the model here (vaec "
                         f"without --target-triple) or run it on {name}")


_DTYPES = {1: np.uint8, 2: np.float32, 3: np.float64}
_vaez = None


def _vaez_library():
    """libvaez.so (vae/vaez.h), found by $VAEZ_LIBRARY, beside this file, in
    the build tree's lib/ or on the loader's path; loaded once."""
    global _vaez
    if _vaez is not None:
        return _vaez
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get("VAEZ_LIBRARY", ""), os.path.join(here, "libvaez.so"),
                  os.path.join(here, "..", "..", "build", "lib", "libvaez.so"),
                  os.path.join(here, "..", "..", "lib", "libvaez.so"), "libvaez.so"]
    for path in filter(None, candidates):
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError:
            continue
    else:
        raise ModelError("compress and decompress need libvaez.so (built with vaec: "
                         "build/lib/libvaez.so, or installed beside libvaert); set "
                         "$VAEZ_LIBRARY to its path")
    c, i32, i64, p = ctypes.c_char_p, ctypes.c_int32, ctypes.c_int64, ctypes.c_void_p
    lib.vaez_compress.argtypes = [c, p, p, i32, i64, ctypes.POINTER(i64), i32, p,
                                  ctypes.POINTER(p), ctypes.POINTER(i64), c, i64]
    lib.vaez_decompress.argtypes = [c, p, p, i64, ctypes.POINTER(p), ctypes.POINTER(i32),
                                    ctypes.POINTER(i64), ctypes.POINTER(i64),
                                    ctypes.POINTER(i32), c, i64]
    lib.vaez_compress.restype = lib.vaez_decompress.restype = ctypes.c_int
    lib.vaez_free.argtypes, lib.vaez_free.restype = [p], None
    _vaez = lib
    return lib


class _Precisions(ctypes.Structure):
    _fields_ = [("latent", ctypes.c_int32), ("posterior", ctypes.c_int32),
                ("likelihood", ctypes.c_int32)]


class Model:
    """A library built by vaec, with its parameters, optimizer state and
    arena allocated once."""

    def __init__(self, path):
        _check_machine(path)
        try:
            self._lib = ctypes.CDLL(os.path.abspath(path))
        except OSError as e:
            raise ModelError(f"cannot load '{path}': {e}") from None
        try:
            desc = _Desc.in_dll(self._lib, "vae_model_desc")
        except ValueError:
            raise ModelError(f"'{path}' is not a library built by vaec "
                             "(no vae_model_desc)") from None
        if desc.abi_version != ABI_VERSION:
            raise ModelError(f"'{path}' was built for ABI version {desc.abi_version}; this "
                             f"module reads version {ABI_VERSION}: rebuild it with this vaec")
        if desc.struct_size < ctypes.sizeof(_Desc):
            raise ModelError(f"'{path}': its descriptor is {desc.struct_size} bytes, "
                             f"expected {ctypes.sizeof(_Desc)}")
        if desc.device != 0:
            raise ModelError(f"'{path}' runs on an NVIDIA GPU (--target=nvptx): its kernels "
                             "launch through libvaert, which this pure-Python module does "
                             "not load; use vae-train, or compile for the CPU")
        self.path = path
        self._desc = desc
        self.name = desc.name.decode()
        self.batch = int(desc.batch)
        self.input_shape = tuple(int(desc.input_shape[i]) for i in range(desc.input_rank))
        self.input_size = int(desc.input_size)
        self.latent_size = int(desc.latent_size)
        self.likelihood = _LIKELIHOODS.get(desc.likelihood, str(desc.likelihood))
        self.optimizer = _OPTIMIZERS.get(desc.optimizer, str(desc.optimizer))
        self.prior_mean, self.prior_std = float(desc.prior_mean), float(desc.prior_std)
        self.fingerprint = desc.fingerprint.decode()
        self.seed = int(desc.seed)
        self.defaults = {name: float(getattr(desc.defaults, name))
                         for name, _ in _Hyperparams._fields_}
        self.param_specs = [
            (desc.params[i].name.decode(),
             tuple(int(desc.params[i].shape[r]) for r in range(desc.params[i].rank)),
             int(desc.params[i].offset))
            for i in range(desc.num_params)]
        self.params = _aligned(int(desc.param_floats))
        self.opt_state = _aligned(int(desc.opt_state_floats))
        self._arena = _aligned(max(int(desc.arena_bytes), 1), np.uint8)
        self.step = 0  # optimizer steps taken (Adam's bias correction counts them)
        self._bind()

    def _bind(self):
        f, p, i64 = ctypes.c_void_p, ctypes.POINTER(_Hyperparams), ctypes.c_int64

        def entry(name, *argtypes):
            fn = getattr(self._lib, name)
            fn.argtypes, fn.restype = list(argtypes), None
            return fn
        self._init = entry("vae_init_params", f, ctypes.c_uint64)
        self._encode = entry("vae_encode", f, f, f, f, f)
        self._decode = entry("vae_decode", *([f] * (3 + int(self._desc.decode_outputs))))
        self._score = entry("vae_score", f, f, f, f, f, f, f)
        self._eval = entry("vae_eval_elbo", f, f, f, f, f, f, f)
        self._train = entry("vae_train_step", f, f, f, f, f, f, i64, p, f, f, f)

    def __repr__(self):
        return (f"vae.Model('{self.path}': {self.name}, batch {self.batch}, input "
                f"{list(self.input_shape)}, latent {self.latent_size}, {self.likelihood})")

    # Parameters and checkpoints.
    def parameters(self):
        """{name: view of the parameter buffer in its shape} (weights [in, out])."""
        return {name: self.params[offset:offset + int(np.prod(shape))].reshape(shape)
                for name, shape, offset in self.param_specs}

    def init(self, seed=None):
        """vae_init_params: the parameters a vae-train run with `seed` starts
        from (default: the train block's), and a fresh optimizer state."""
        self._init(_ptr(self.params), self.seed if seed is None else int(seed))
        self.opt_state[:] = 0
        self.step = 0

    def load_checkpoint(self, path):
        """The parameters and optimizer state of a vae-train checkpoint
        (checkpoint.bin or best.bin); returns its run record (a dict)."""
        with open(path, "rb") as f:
            data = f.read()
        if data[:7] != b"VAECKPT":
            raise ModelError(f"'{path}' is not a vae-train checkpoint (bad magic at byte 0)")
        if data[7:8] != b"3":
            raise ModelError(f"'{path}' is a checkpoint of format {data[7:8].decode(errors='replace')}"
                             " (byte 7); this module reads format 3, which carries a SHA-256 "
                             "of its contents: train again")
        if len(data) < 96 + 32:
            raise ModelError(f"'{path}' is truncated in its header ({len(data)} bytes; a "
                             "header and its SHA-256 take 128)")
        # The SHA-256 of every byte before it, checked before any field is read.
        if hashlib.sha256(data[:-32]).digest() != data[-32:]:
            raise ModelError(f"'{path}' is corrupt: its SHA-256 does not match its contents "
                             f"(it has {len(data)} bytes); resume from another checkpoint "
                             "(best.bin) or train again")
        ints = np.frombuffer(data, dtype="<i8", count=7, offset=8)
        param_floats, state_floats, epoch, step, seed, _, run_bytes = (int(v) for v in ints)
        if (param_floats, state_floats) != (self.params.size, self.opt_state.size):
            raise ModelError(f"'{path}' holds {param_floats} parameters and {state_floats} "
                             f"optimizer-state floats, but model '{self.name}' has "
                             f"{self.params.size} and {self.opt_state.size}")
        run = dict(line.split("=", 1) for line in
                   data[96:96 + run_bytes].decode().splitlines() if "=" in line)
        if run.get("fingerprint", self.fingerprint) != self.fingerprint:
            raise ModelError(f"'{path}' was trained by another model ({run['fingerprint']}, "
                             f"this one is {self.fingerprint})")
        body = 96 + run_bytes
        if len(data) != body + 4 * (param_floats + state_floats) + 32:
            raise ModelError(f"'{path}' is {len(data)} bytes, expected "
                             f"{body + 4 * (param_floats + state_floats) + 32}")
        for what, offset, count in (("parameter", body, param_floats),
                                    ("optimizer-state value", body + 4 * param_floats,
                                     state_floats)):
            values = np.frombuffer(data, dtype="<f4", count=count, offset=offset)
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                raise ModelError(f"'{path}' holds a {what} that is not finite "
                                 f"({values[bad[0]]} at index {bad[0]}, byte "
                                 f"{offset + 4 * bad[0]}): the run that wrote it diverged; "
                                 "resume from best.bin or train again")
        self.params[:] = np.frombuffer(data, dtype="<f4", count=param_floats, offset=body)
        self.opt_state[:] = np.frombuffer(data, dtype="<f4", count=state_floats,
                                          offset=body + 4 * param_floats)
        self.step = step
        self.seed = seed  # (the run's: score() and sample() then draw what vae-train does)
        run.update(epoch=str(epoch), step=str(step), seed=str(seed))
        return run

    # Batching.
    def _examples(self, x):
        # As vae-train reads data: uint8 divided by 255 (kept as integers for
        # a discrete likelihood), as many values, and where the model takes
        # images the same shape (sizes of 1 aside) or a flat row; finite, in
        # [0, 1] for a Bernoulli likelihood, integers 0 ... bins - 1 for a
        # discrete one.
        x = np.asarray(x)
        discrete = self.likelihood == "discretized_logistic"
        x = x.astype(np.float32) / 255 if x.dtype == np.uint8 and not discrete else x
        x = np.ascontiguousarray(x, dtype=np.float32)
        shape = x.shape[1:]

        def squeeze(s):
            return tuple(v for v in s if v != 1)
        if int(np.prod(shape)) != self.input_size or not (
                len(self.input_shape) == 1 or len(shape) == 1 or
                squeeze(shape) == squeeze(self.input_shape)):
            raise ValueError(f"examples of shape {list(shape)}; model '{self.name}' takes "
                             f"{list(self.input_shape)} ({self.input_size} values)")
        bad = ~np.isfinite(x)
        if self.likelihood == "bernoulli":
            bad |= (x < 0) | (x > 1)
        if discrete:
            bins = self._desc.likelihood_bins
            bad |= (x < 0) | (x > bins - 1) | (x != np.round(x))
        if bad.any():
            index = np.unravel_index(int(np.argmax(bad)), x.shape)
            where = f"x[{', '.join(str(int(i)) for i in index)}] (example {int(index[0])})"
            value = x[index]
            if not np.isfinite(value):
                raise ValueError(f"{where} is {value}; the data must be finite")
            if discrete:
                raise ValueError(f"{where} is {value}; model '{self.name}' has a discretized "
                                 f"logistic likelihood over the integers 0 ... "
                                 f"{self._desc.likelihood_bins - 1}")
            raise ValueError(f"{where} is {value}, outside [0, 1]; model '{self.name}' has a "
                             "Bernoulli likelihood, which models values in [0, 1]: rescale the "
                             "data to [0, 1] (uint8 data is divided by 255, as here), or give "
                             "the decoder a Gaussian likelihood")
        return x.reshape(len(x), self.input_size)

    def _batches(self, n):
        for first in range(0, n, self.batch):
            yield first, min(self.batch, n - first)

    def _padded(self, rows, first, count, width):
        out = _aligned(self.batch * width).reshape(self.batch, width)
        out[:count] = rows[first:first + count]
        return out

    # Entry points on any number of examples.
    def encode(self, x):
        """Posterior means and log-variances: ([n, latent], [n, latent])."""
        x = self._examples(x)
        mu = np.empty((len(x), self.latent_size), np.float32)
        logvar = np.empty_like(mu)
        m, lv = (_aligned(self.batch * self.latent_size) for _ in range(2))
        for first, count in self._batches(len(x)):
            xb = self._padded(x, first, count, self.input_size)
            self._encode(_ptr(self.params), _ptr(self._arena), _ptr(xb), _ptr(m), _ptr(lv))
            mu[first:first + count] = m.reshape(self.batch, -1)[:count]
            logvar[first:first + count] = lv.reshape(self.batch, -1)[:count]
        return mu, logvar

    def decode(self, z):
        """The decoder's outputs at latent codes z [n, latent]: Bernoulli
        logits, a Gaussian's means (and log-variances, as a second array,
        for a learned variance), each [n, *input_shape]."""
        z = np.ascontiguousarray(z, dtype=np.float32).reshape(-1, self.latent_size)
        outputs = int(self._desc.decode_outputs)
        results = [np.empty((len(z), self.input_size), np.float32) for _ in range(outputs)]
        buffers = [_aligned(self.batch * self.input_size) for _ in range(outputs)]
        for first, count in self._batches(len(z)):
            zb = self._padded(z, first, count, self.latent_size)
            self._decode(_ptr(self.params), _ptr(self._arena), _ptr(zb),
                         *(_ptr(b) for b in buffers))
            for result, buffer in zip(results, buffers):
                result[first:first + count] = buffer.reshape(self.batch, -1)[:count]
        shaped = [r.reshape((len(z),) + self.input_shape) for r in results]
        return shaped[0] if outputs == 1 else tuple(shaped)

    def mean(self, z):
        """The mean of p(x|z): sigmoid of the logits for a Bernoulli decoder;
        for a discretized logistic the location mapped back to the data's
        integers (clipped to 0 ... bins - 1)."""
        out = self.decode(z)
        out = out[0] if isinstance(out, tuple) else out
        if self.likelihood == "discretized_logistic":
            top = self._desc.likelihood_bins - 1
            return np.clip((out + 1) * (top / 2), 0, top)
        return 1 / (1 + np.exp(-out)) if self.likelihood == "bernoulli" else out

    def score(self, x, eps=None, seed=None):
        """Per example: (-ELBO, reconstruction, KL) in nats, each [n]. The
        noise `eps` [n, latent] defaults to vae-train's evaluation noise
        for `seed` (default: the train block's), so the numbers are those
        of `vae-train score` on the same examples."""
        x = self._examples(x)
        if eps is None:
            eps = eval_noise(self.seed if seed is None else int(seed), 0, len(x),
                             self.latent_size)
        eps = np.ascontiguousarray(eps, dtype=np.float32).reshape(len(x), self.latent_size)
        terms = [np.empty(len(x), np.float32) for _ in range(3)]
        out = [_aligned(self.batch) for _ in range(3)]
        for first, count in self._batches(len(x)):
            xb = self._padded(x, first, count, self.input_size)
            eb = self._padded(eps, first, count, self.latent_size)
            self._score(_ptr(self.params), _ptr(self._arena), _ptr(xb), _ptr(eb),
                        *(_ptr(o) for o in out))
            for term, o in zip(terms, out):
                term[first:first + count] = o[:count]
        loss, reconstruction, kl = terms
        return reconstruction + kl, reconstruction, kl

    def sample(self, n, seed=None):
        """The decoder's means at n draws from the prior, [n, *input_shape]:
        the draws of `vae-train sample --n n` for `seed` (default: the train
        block's)."""
        z = prior_noise(self.seed if seed is None else int(seed), n, self.latent_size)
        return self.mean(self.prior_mean + self.prior_std * z)

    def train_step(self, x, eps=None, weights=None, lr=None, kl_weight=None, seed=0):
        """One optimizer step on one batch (exactly model.batch examples),
        in place on the parameters and optimizer state; returns (loss,
        reconstruction, KL) of the batch before the step. eps defaults to
        standard normal draws of NumPy's generator for `seed`; lr and
        kl_weight to the train block's."""
        x = self._examples(x)
        if len(x) != self.batch:
            raise ValueError(f"train_step takes one batch of {self.batch} examples, got "
                             f"{len(x)}")
        if eps is None:
            eps = np.random.default_rng(seed).standard_normal(
                (self.batch, self.latent_size), dtype=np.float32)
        xb = self._padded(x, 0, self.batch, self.input_size)
        eb = self._padded(np.asarray(eps, np.float32).reshape(self.batch, -1), 0, self.batch,
                          self.latent_size)
        wb = _aligned(self.batch)
        wb[:] = 1 if weights is None else np.asarray(weights, np.float32)
        hyper = _Hyperparams(**self.defaults)
        if lr is not None:
            hyper.lr = lr
        if kl_weight is not None:
            hyper.kl_weight = kl_weight
        out = [ctypes.c_float() for _ in range(3)]
        self.step += 1
        self._train(_ptr(self.params), _ptr(self.opt_state), _ptr(self._arena), _ptr(xb),
                    _ptr(eb), _ptr(wb), self.step, ctypes.byref(hyper),
                    *(ctypes.byref(o) for o in out))
        return tuple(o.value for o in out)

    # Lossless compression (docs/compression.md), through libvaez.so.
    def compress(self, x, latent_bits=12, posterior_bits=24, likelihood_bits=24):
        """The bytes of a .vaez file of the examples `x` ([n, ...], uint8,
        float32 or float64, as `vae-train compress` takes a file), coded by
        bits-back ANS with this model and its current parameters: 0 and 1 for
        a Bernoulli model (bytes 0 and 255), the integers 0 ... bins - 1 for a
        discretized logistic. decompress gives back the same dtype, shape and
        values on this machine, with this library and these parameters."""
        lib = _vaez_library()
        x = np.ascontiguousarray(x)
        codes = {np.dtype(np.uint8): 1, np.dtype(np.float32): 2, np.dtype(np.float64): 3}
        if x.dtype not in codes or x.ndim < 2:
            raise ValueError(f"compress takes [n, ...] arrays of uint8, float32 or float64, "
                             f"got {x.dtype} of shape {list(x.shape)}")
        shape = (ctypes.c_int64 * (x.ndim - 1))(*x.shape[1:])
        precisions = _Precisions(latent_bits, posterior_bits, likelihood_bits)
        out, size = ctypes.c_void_p(), ctypes.c_int64()
        error = ctypes.create_string_buffer(1024)
        if lib.vaez_compress(self.path.encode(), _ptr(self.params), _ptr(x), codes[x.dtype],
                             len(x), shape, x.ndim - 1, ctypes.byref(precisions),
                             ctypes.byref(out), ctypes.byref(size), error, len(error)):
            raise ValueError(error.value.decode())
        try:
            return ctypes.string_at(out, size.value)
        finally:
            lib.vaez_free(out)

    def decompress(self, data):
        """The examples of .vaez bytes (compress's, or a file `vae-train
        compress` wrote with this library and parameters), as the array that
        was compressed."""
        lib = _vaez_library()
        data = bytes(data)
        out, dtype, count, rank = ctypes.c_void_p(), ctypes.c_int32(), ctypes.c_int64(), \
            ctypes.c_int32()
        shape = (ctypes.c_int64 * 8)()
        error = ctypes.create_string_buffer(1024)
        if lib.vaez_decompress(self.path.encode(), _ptr(self.params), data, len(data),
                               ctypes.byref(out), ctypes.byref(dtype), ctypes.byref(count),
                               shape, ctypes.byref(rank), error, len(error)):
            raise ValueError(error.value.decode())
        try:
            dims = (count.value,) + tuple(shape[i] for i in range(rank.value))
            kind = np.dtype(_DTYPES[dtype.value])
            raw = ctypes.string_at(out, int(np.prod(dims)) * kind.itemsize)
            return np.frombuffer(raw, kind).reshape(dims).copy()
        finally:
            lib.vaez_free(out)
