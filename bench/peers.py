#!/usr/bin/env python3
"""bench/peers.py - the vaec models trained by PyTorch (eager, torch.compile)
and JAX (jit + optax), for bench/compare.py.

    peers.py --framework torch-eager|torch-compile|torch-graphs|jax-jit --model mnist_vae
             [--epochs N] [--data DIR] [--threads 2] [--seed 1] [--device cpu|cuda]
             [--batch 128]

Same data files (MNIST-format IDX, pixels / 255), batch (128), optimizer (Adam,
lr 1e-3, PyTorch's betas and eps), initialization (nn.Linear's uniform
+-1/sqrt(fan_in) for weights and biases), loss (-ELBO: the likelihood summed
over pixels plus the analytic KL, averaged over the batch), a fresh shuffle
per epoch, and the last partial batch kept (PyTorch's drop_last=False; JAX pads
it and masks the padding, as vaec does, so that jit compiles one shape). The
test -ELBO is over all test images with one noise draw each. Prints one JSON
object on stdout.

--device cuda (tools/gpu-check.sh): PyTorch on the GPU, each batch copied from
host memory as vae-train does, the loss read back every step (a sync, as
vae-train's); torch-graphs is torch.compile(mode="reduce-overhead"), which
captures the step's kernels into CUDA graphs. JAX uses its default backend.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np

# The models of models/*.vdl, by hand.
MODELS = {
    "mnist_vae": dict(hidden=400, latent=20, activation="relu", likelihood="bernoulli"),
    "seed_vae": dict(hidden=128, latent=32, activation="leaky_relu", likelihood="gaussian"),
    # TensorFlow's convolutional VAE tutorial, latent 16 (models/conv_vae.vdl).
    "conv_vae": dict(conv=True, latent=16, activation="relu", likelihood="bernoulli"),
}
BATCH, LR = 128, 1e-3
HALF_LOG_2PI = 0.5 * np.log(2.0 * np.pi)


def read_images(path):
    """An IDX image file (gzip or raw) as float32 rows in [0, 1]."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != 2051:
        sys.exit(f"{path}: offset 0: not an IDX image file (magic {magic:#x})")
    pixels = np.frombuffer(data, dtype=np.uint8, offset=16)
    return pixels.reshape(count, rows * cols).astype(np.float32) / 255.0


def load(data_dir):
    def find(stem):
        for name in (stem + ".gz", stem):
            if os.path.exists(os.path.join(data_dir, name)):
                return os.path.join(data_dir, name)
        sys.exit(f"{data_dir}: no {stem}[.gz]")
    return (read_images(find("train-images-idx3-ubyte")),
            read_images(find("t10k-images-idx3-ubyte")))


def layer_shapes(spec, inputs):
    """(name, weight shape, fan-in) of each layer; a dense weight is [in, out],
    a conv2d's [out, in, k, k] and a conv2d_transpose's [in, out, k, k]
    (PyTorch's fan-in: the weight's second dimension times k * k)."""
    l = spec["latent"]
    if spec.get("conv"):
        return [("enc_c1", (32, 1, 3, 3), 9), ("enc_c2", (64, 32, 3, 3), 288),
                ("enc_mu", (3136, l), 3136), ("enc_logvar", (3136, l), 3136),
                ("dec_h", (l, 1568), l), ("dec_t1", (32, 64, 3, 3), 576),
                ("dec_t2", (64, 32, 3, 3), 288), ("dec_out", (32, 1, 3, 3), 9)]
    h = spec["hidden"]
    return [("enc_h", (inputs, h), inputs), ("enc_mu", (h, l), h), ("enc_logvar", (h, l), h),
            ("dec_h", (l, h), l), ("dec_out", (h, inputs), h)]


def init_params(spec, inputs, rng):
    """PyTorch's default for nn.Linear, Conv2d and ConvTranspose2d: weight and
    bias uniform in +-1/sqrt(fan_in)."""
    params = {}
    for name, shape, fan_in in layer_shapes(spec, inputs):
        bound = 1.0 / np.sqrt(fan_in)
        bias = shape[1] if len(shape) == 2 or name.startswith("dec_") else shape[0]
        params[name] = (rng.uniform(-bound, bound, shape).astype(np.float32),
                        rng.uniform(-bound, bound, (bias,)).astype(np.float32))
    return params


def batches(count, rng):
    order = rng.permutation(count)
    for k in range(0, count, BATCH):
        yield order[k:k + BATCH]


class Torch:
    def __init__(self, spec, params, threads, compiled, device="cpu", mode=None):
        import torch
        import torch.nn.functional as F
        torch.set_num_threads(threads)
        self.torch, self.F, self.spec, self.device = torch, F, spec, device
        self.params = {k: [torch.nn.Parameter(torch.from_numpy(w.copy()).to(device)),
                           torch.nn.Parameter(torch.from_numpy(b.copy()).to(device))]
                       for k, (w, b) in params.items()}
        flat = [p for pair in self.params.values() for p in pair]
        self.optimizer = torch.optim.Adam(flat, lr=LR)
        self.loss = torch.compile(self.terms, mode=mode) if compiled else self.terms

    def terms(self, x, eps):
        F, p = self.F, self.params
        act = F.relu if self.spec["activation"] == "relu" else F.leaky_relu
        dense = lambda name, v: v @ p[name][0] + p[name][1]
        if self.spec.get("conv"):
            conv = lambda name, v: F.conv2d(v, *p[name], stride=2, padding=1)
            up = lambda name, v, stride, extra: F.conv_transpose2d(
                v, *p[name], stride=stride, padding=1, output_padding=extra)
            h = act(conv("enc_c2", act(conv("enc_c1", x.view(-1, 1, 28, 28))))).flatten(1)
            mu, logvar = dense("enc_mu", h), dense("enc_logvar", h)
            z = mu + self.torch.exp(0.5 * logvar) * eps
            h = act(dense("dec_h", z)).view(-1, 32, 7, 7)
            h = act(up("dec_t2", act(up("dec_t1", h, 2, 1)), 2, 1))
            out = up("dec_out", h, 1, 0).flatten(1)
        else:
            h = act(dense("enc_h", x))
            mu, logvar = dense("enc_mu", h), dense("enc_logvar", h)
            z = mu + self.torch.exp(0.5 * logvar) * eps
            out = dense("dec_out", act(dense("dec_h", z)))
        if self.spec["likelihood"] == "bernoulli":
            rec = F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(1)
        else:
            rec = 0.5 * ((x - out) ** 2).sum(1) + x.shape[1] * HALF_LOG_2PI
        kl = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum(1)
        return (rec + kl).mean(), rec.mean(), kl.mean()

    def step(self, x, eps):
        x = self.torch.from_numpy(x).to(self.device)
        eps = self.torch.from_numpy(eps).to(self.device)
        self.optimizer.zero_grad(set_to_none=True)
        loss, _, _ = self.loss(x, eps)
        loss.backward()
        self.optimizer.step()
        return float(loss)

    def evaluate(self, x, eps):
        with self.torch.no_grad():
            terms = self.loss(self.torch.from_numpy(x).to(self.device),
                              self.torch.from_numpy(eps).to(self.device))
        return [float(t) for t in terms]


class Jax:
    def __init__(self, spec, params, threads, compiled=True):
        os.environ["XLA_FLAGS"] = ("--xla_cpu_multi_thread_eigen=true "
                                   f"intra_op_parallelism_threads={threads}")
        import jax
        import jax.numpy as jnp
        import optax
        self.jax, self.jnp, self.spec = jax, jnp, spec
        self.params = jax.tree_util.tree_map(jnp.asarray, params)
        self.optimizer = optax.adam(LR)
        self.state = self.optimizer.init(self.params)

        def terms(params, x, eps, weights):
            act = jax.nn.relu if spec["activation"] == "relu" else (
                lambda v: jax.nn.leaky_relu(v, 0.01))
            dense = lambda name, v: v @ params[name][0] + params[name][1]
            if spec.get("conv"):
                numbers = ("NCHW", "OIHW", "NCHW")

                def conv(name, v):
                    w, b = params[name]
                    return jax.lax.conv_general_dilated(
                        v, w, (2, 2), [(1, 1), (1, 1)],
                        dimension_numbers=numbers) + b[None, :, None, None]

                def up(name, v, stride, extra):
                    # PyTorch's conv_transpose2d: the input dilated by the
                    # stride, padded k-1-p (p = 1 in this model; plus output_padding after), and
                    # the [in, out, k, k] weight as a flipped [out, in] filter.
                    w, b = params[name]
                    k = w.shape[2]
                    flipped = jnp.flip(w, (2, 3)).transpose(1, 0, 2, 3)
                    pad = [(k - 2, k - 2 + extra)] * 2
                    return jax.lax.conv_general_dilated(
                        v, flipped, (1, 1), pad, lhs_dilation=(stride, stride),
                        dimension_numbers=numbers) + b[None, :, None, None]

                h = act(conv("enc_c2", act(conv("enc_c1", x.reshape(-1, 1, 28, 28)))))
                h = h.reshape(h.shape[0], -1)
                mu, logvar = dense("enc_mu", h), dense("enc_logvar", h)
                z = mu + jnp.exp(0.5 * logvar) * eps
                h = act(dense("dec_h", z)).reshape(-1, 32, 7, 7)
                h = act(up("dec_t2", act(up("dec_t1", h, 2, 1)), 2, 1))
                out = up("dec_out", h, 1, 0).reshape(h.shape[0], -1)
            else:
                h = act(dense("enc_h", x))
                mu, logvar = dense("enc_mu", h), dense("enc_logvar", h)
                z = mu + jnp.exp(0.5 * logvar) * eps
                out = dense("dec_out", act(dense("dec_h", z)))
            if spec["likelihood"] == "bernoulli":
                rec = (jnp.maximum(out, 0) - out * x + jnp.log1p(jnp.exp(-jnp.abs(out)))).sum(1)
            else:
                rec = 0.5 * ((x - out) ** 2).sum(1) + x.shape[1] * HALF_LOG_2PI
            kl = -0.5 * (1 + logvar - mu * mu - jnp.exp(logvar)).sum(1)
            mean = lambda v: (v * weights).sum() / weights.sum()
            return mean(rec + kl), (mean(rec), mean(kl))

        def step(params, state, x, eps, weights):
            (loss, _), grads = jax.value_and_grad(terms, has_aux=True)(params, x, eps, weights)
            updates, state = self.optimizer.update(grads, state, params)
            return optax.apply_updates(params, updates), state, loss

        self._step = jax.jit(step, donate_argnums=(0, 1))
        self._terms = jax.jit(terms)

    @staticmethod
    def padded(x, eps):
        n = x.shape[0]
        weights = np.zeros(BATCH, np.float32)
        weights[:n] = 1
        if n < BATCH:
            x = np.concatenate([x, np.zeros((BATCH - n, x.shape[1]), np.float32)])
            eps = np.concatenate([eps, np.zeros((BATCH - n, eps.shape[1]), np.float32)])
        return x, eps, weights

    def step(self, x, eps):
        self.params, self.state, loss = self._step(self.params, self.state,
                                                   *self.padded(x, eps))
        return float(loss)  # waits for the step

    def evaluate(self, x, eps):
        loss, (rec, kl) = self._terms(self.params, *self.padded(x, eps))
        return [float(loss), float(rec), float(kl)]


def main():
    global BATCH
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--framework", required=True,
                        choices=["torch-eager", "torch-compile", "torch-graphs", "jax-jit"])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args()
    BATCH = args.batch

    import psutil
    started = psutil.Process().create_time()
    spec = MODELS[args.model]
    train, test = load(args.data)
    rng = np.random.default_rng(args.seed)
    params = init_params(spec, train.shape[1], rng)
    device = args.device
    peer = {"torch-eager": lambda: Torch(spec, params, args.threads, False, device),
            "torch-compile": lambda: Torch(spec, params, args.threads, True, device),
            "torch-graphs": lambda: Torch(spec, params, args.threads, True, device,
                                          "reduce-overhead"),
            "jax-jit": lambda: Jax(spec, params, args.threads)}[args.framework]()

    first_step, epoch_seconds, train_loss = None, [], []
    for epoch in range(args.epochs):
        start, total = time.perf_counter(), 0.0
        for rows in batches(len(train), rng):
            eps = rng.standard_normal((len(rows), spec["latent"]), dtype=np.float32)
            total += peer.step(train[rows], eps) * len(rows)
            if first_step is None:
                first_step = time.time() - started
        epoch_seconds.append(time.perf_counter() - start)
        train_loss.append(total / len(train))
        print(f"{args.framework} {args.model} epoch {epoch + 1}: train -ELBO "
              f"{train_loss[-1]:.2f}, {len(train) / epoch_seconds[-1]:.0f} samples/s",
              file=sys.stderr)

    sums = np.zeros(3)
    for k in range(0, len(test), BATCH):
        x = test[k:k + BATCH]
        eps = rng.standard_normal((len(x), spec["latent"]), dtype=np.float32)
        sums += np.array(peer.evaluate(x, eps)) * len(x)
    test_terms = sums / len(test)
    print(json.dumps({
        "framework": args.framework, "model": args.model, "epochs": args.epochs,
        "device": args.device, "batch": BATCH,
        "samples_per_second": [len(train) / s for s in epoch_seconds],
        "first_step_seconds": first_step, "train_loss": train_loss,
        # (as vae-train's metrics.json: the -ELBO is reconstruction + KL)
        "test": {"neg_elbo": test_terms[1] + test_terms[2], "objective": test_terms[0],
                 "reconstruction": test_terms[1], "kl": test_terms[2]},
    }))


if __name__ == "__main__":
    main()
