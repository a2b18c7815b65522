#!/usr/bin/env python3
"""runtime/python/vae.py against vae-train on one checkpoint: encode, score
and sample give what `vae-train encode|score|sample` wrote; train_step
trains; bad libraries, checkpoints and shapes are clear errors.

    python3 tests/python/test_vae.py VAEC VAE_TRAIN MODELS_DIR

(Debian's python3 with python3-numpy; ctest `python-module`.)"""

import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "runtime", "python"))
import vae  # noqa: E402

# (Under the sanitizers ctest preloads the ASan runtime for libvaez.so; the
# instrumented vaec and vae-train carry their own and must not get it.)
os.environ.pop("LD_PRELOAD", None)
VAEC, VAE_TRAIN, MODELS = sys.argv[1:4]
del sys.argv[1:4]
FASHION = "/usr/share/datasets/fashion-mnist"


class AgainstVaeTrain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        tmp = cls.tmp.name
        cls.so = os.path.join(tmp, "vae.so")
        subprocess.run([VAEC, os.path.join(MODELS, "mnist_vae.vdl"), "--batch", "32", "-o",
                        cls.so], check=True)
        cls.run_dir = os.path.join(tmp, "run")
        train = [VAE_TRAIN, cls.so, "--limit", "640", "--epochs", "1", "--seed", "5", "--out",
                 cls.run_dir]
        subprocess.run(train, check=True, capture_output=True)
        for command in (["encode"], ["score"], ["sample", "--n", "10"]):
            subprocess.run([VAE_TRAIN, command[0], cls.so, "--out", cls.run_dir] + command[1:],
                           check=True, capture_output=True)
        raw = gzip.open(os.path.join(FASHION, "t10k-images-idx3-ubyte.gz")).read()[16:]
        cls.x = np.frombuffer(raw, np.uint8).reshape(-1, 28, 28).astype(np.float32) / 255
        cls.model = vae.Model(cls.so)
        cls.record = cls.model.load_checkpoint(os.path.join(cls.run_dir, "checkpoint.bin"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def csv(self, name):
        return np.genfromtxt(os.path.join(self.run_dir, name), delimiter=",", names=True)

    def test_descriptor(self):
        m = self.model
        self.assertEqual((m.name, m.batch, m.input_shape, m.latent_size, m.likelihood),
                         ("mnist_vae", 32, (784,), 20, "bernoulli"))
        params = m.parameters()
        self.assertEqual(params["encoder.h.weight"].shape, (784, 400))
        self.assertEqual(sum(p.size for p in params.values()) <= m.params.size, True)
        self.assertEqual(self.record["fingerprint"], m.fingerprint)
        self.assertEqual((self.record["epoch"], self.record["seed"]), ("1", "5"))

    def test_encode_matches_latents_csv(self):
        latents = self.csv("latents.csv")
        expected = np.stack([latents[f"mu{j}"] for j in range(20)], axis=1)
        mu, logvar = self.model.encode(self.x)
        self.assertEqual(mu.shape, (10000, 20))
        np.testing.assert_array_equal(mu, expected.astype(np.float32))
        self.assertTrue(np.all(np.isfinite(logvar)))

    def test_score_matches_scores_csv(self):
        scores = self.csv("scores.csv")
        neg_elbo, reconstruction, kl = self.model.score(self.x)
        # The noise is recomputed here: NumPy's float32 log and sin/cos may
        # round an ulp away from glibc's.
        np.testing.assert_allclose(neg_elbo, scores["neg_elbo"], rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(kl, scores["kl"], rtol=1e-5, atol=1e-4)
        # And the mean is vae-train's test -ELBO.
        ev = subprocess.run([VAE_TRAIN, "eval", self.so, "--out", self.run_dir],
                            capture_output=True, text=True, check=True)
        self.assertIn(f"test -ELBO {neg_elbo.mean():.2f} ", ev.stdout)

    def test_sample_matches_samples_npy(self):
        expected = np.load(os.path.join(self.run_dir, "samples.npy"))
        samples = self.model.sample(10)
        self.assertEqual(samples.shape, expected.shape)
        np.testing.assert_allclose(samples, expected, atol=1e-5)

    def test_decode_of_the_means_reconstructs(self):
        mu, _ = self.model.encode(self.x[:50])
        reconstruction = self.model.mean(mu)
        self.assertEqual(reconstruction.shape, (50, 784))
        error = np.abs(reconstruction - self.x[:50].reshape(50, -1)).mean()
        self.assertLess(error, np.abs(self.x[:50].mean() - self.x[:50]).mean())

    def test_train_step(self):
        model = vae.Model(self.so)
        model.load_checkpoint(os.path.join(self.run_dir, "checkpoint.bin"))
        batch = self.x[:32]
        eps = np.zeros((32, 20), np.float32)
        losses = [model.train_step(batch, eps=eps)[0] for _ in range(20)]
        self.assertLess(losses[-1], losses[0])
        # Deterministic: the same steps from the same checkpoint, the same
        # parameters.
        again = vae.Model(self.so)
        again.load_checkpoint(os.path.join(self.run_dir, "checkpoint.bin"))
        for _ in range(20):
            again.train_step(batch, eps=eps)
        np.testing.assert_array_equal(model.params, again.params)
        with self.assertRaisesRegex(ValueError, "one batch of 32 examples"):
            model.train_step(self.x[:31])

    def test_init_draws_within_the_fan_in_bound(self):
        model = vae.Model(self.so)
        model.init(seed=5)
        w = model.parameters()["encoder.h.weight"].copy()
        bound = 1 / np.sqrt(784)  # PyTorch's nn.Linear default
        self.assertTrue(np.all(np.abs(w) <= bound) and w.std() > bound / 3)
        model.init(seed=5)
        np.testing.assert_array_equal(model.parameters()["encoder.h.weight"], w)
        model.init(seed=6)
        self.assertFalse(np.array_equal(model.parameters()["encoder.h.weight"], w))

    def test_errors(self):
        with self.assertRaisesRegex(vae.ModelError, "cannot load"):
            vae.Model(os.path.join(self.tmp.name, "missing.so"))
        # The library with its ELF machine (bytes 18-19) set to the other of
        # x86-64 (62) and aarch64 (183): named, not "cannot open".
        with open(self.so, "rb") as f:
            image = bytearray(f.read())
        other, name = (183, "aarch64") if image[18] == 62 else (62, "x86-64")
        image[18:20] = other.to_bytes(2, "little")
        foreign = os.path.join(self.tmp.name, "foreign.so")
        with open(foreign, "wb") as f:
            f.write(image)
        with self.assertRaisesRegex(vae.ModelError, f"it is a library for {name}, and this "
                                    "machine runs"):
            vae.Model(foreign)
        with self.assertRaisesRegex(ValueError, r"takes \[784\]"):
            self.model.encode(np.zeros((3, 27, 28), np.float32))
        bad = os.path.join(self.tmp.name, "bad.bin")
        with open(bad, "wb") as f:
            f.write(b"NOTACKPT" + bytes(100))
        with self.assertRaisesRegex(vae.ModelError, "bad magic"):
            self.model.load_checkpoint(bad)
        other = os.path.join(self.tmp.name, "other.vdl")
        text = open(os.path.join(MODELS, "mnist_vae.vdl")).read()
        open(other, "w").write(text.replace("relu(dense(z, 400))", "tanh(dense(z, 400))"))
        other_so = os.path.join(self.tmp.name, "other.so")
        subprocess.run([VAEC, other, "--batch", "32", "-o", other_so], check=True)
        with self.assertRaisesRegex(vae.ModelError, "trained by another model"):
            vae.Model(other_so).load_checkpoint(os.path.join(self.run_dir, "checkpoint.bin"))

    def test_compress_round_trip_and_vae_train_files(self):
        # Binarized test images: bytes 0 and 255, as a Bernoulli model codes them.
        x = np.where(self.x[:70] > 0.5, 255, 0).astype(np.uint8)
        blob = self.model.compress(x)
        back = self.model.decompress(blob)
        self.assertEqual((back.dtype, back.shape), (np.uint8, x.shape))
        self.assertTrue((back == x).all())
        self.assertLess(len(blob), x.size / 4)  # under 2 bits a pixel (a model of 640 images)
        # A file vae-train compressed decompresses here, and the other way.
        path = os.path.join(self.tmp.name, "binary.npy")
        np.save(path, (x > 0).astype(np.float32))
        out = os.path.join(self.tmp.name, "binary.vaez")
        subprocess.run([VAE_TRAIN, "compress", self.so, "--out", self.run_dir, "--data", path,
                        "-o", out], check=True, capture_output=True)
        self.assertTrue((self.model.decompress(open(out, "rb").read()) == np.load(path)).all())
        with self.assertRaisesRegex(ValueError, r"x\[0, 0, 0\] is 0.5: a Bernoulli"):
            self.model.compress(np.full((2, 28, 28), 0.5, np.float32))
        with self.assertRaisesRegex(ValueError, "not a valid .vaez file"):
            self.model.decompress(blob[:-3])

    def test_data_as_vae_train_reads_it(self):
        # Issue 34: uint8 was taken unscaled (mu -448.9 against -1.75), and
        # NaN and values outside a Bernoulli's [0, 1] went through.
        raw = np.round(self.x[:40] * 255).astype(np.uint8)
        mu8, _ = self.model.encode(raw)
        mu, _ = self.model.encode(raw.astype(np.float32) / 255)
        np.testing.assert_array_equal(mu8, mu)
        nan = self.x[:5].copy()
        nan[3, 4, 5] = np.nan
        with self.assertRaisesRegex(ValueError, r"x\[3, 4, 5\] \(example 3\) is nan; the data "
                                    "must be finite"):
            self.model.encode(nan)
        scaled = (self.x[:5] - self.x[:5].mean()) / self.x[:5].std()
        with self.assertRaisesRegex(ValueError, r"outside \[0, 1\]; model 'mnist_vae' has a "
                                    "Bernoulli likelihood"):
            self.model.score(scaled)

    def test_damaged_checkpoints(self):
        # Issue 34: a flipped byte was read as weights. Every header byte
        # and 50 random ones, each flipped alone, are refused as corrupt.
        path = os.path.join(self.run_dir, "checkpoint.bin")
        data = open(path, "rb").read()
        damaged = os.path.join(self.tmp.name, "damaged.bin")
        rng = np.random.default_rng(34)
        for offset in list(range(8, 96)) + list(rng.integers(0, len(data), 50)):
            flipped = bytearray(data)
            flipped[offset] ^= int(rng.integers(1, 256))
            open(damaged, "wb").write(flipped)
            with self.assertRaisesRegex(vae.ModelError, "is corrupt", msg=f"byte {offset}"):
                self.model.load_checkpoint(damaged)
        open(damaged, "wb").write(data[:7] + b"2" + data[8:])
        with self.assertRaisesRegex(vae.ModelError, "format 2"):
            self.model.load_checkpoint(damaged)
        # A NaN parameter with a valid SHA-256 (a run that diverged).
        body = 96 + int(np.frombuffer(data, "<i8", 1, 8 + 6 * 8)[0])
        nan = bytearray(data[:-32])
        nan[body + 4 * 5:body + 4 * 6] = np.float32(np.nan).tobytes()
        open(damaged, "wb").write(nan + hashlib.sha256(nan).digest())
        with self.assertRaisesRegex(vae.ModelError, "not finite .nan at index 5"):
            self.model.load_checkpoint(damaged)


if __name__ == "__main__":
    unittest.main(verbosity=2)
