#!/usr/bin/env python3
"""End to end: vaec compiles mnist_vae.vdl, vae-train trains one epoch on a
2,000-image slice of the default data; the test -ELBO must fall clearly below
its value at initialization, and metrics and a checkpoint must be written.
Also: bad data gives a clear error naming the file and a non-zero exit."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile

from checks import check, finish
import time

vaec, vae_train, models = sys.argv[1], sys.argv[2], sys.argv[3]


with tempfile.TemporaryDirectory() as tmp:
    so = os.path.join(tmp, "vae.so")
    subprocess.run([vaec, os.path.join(models, "mnist_vae.vdl"), "-o", so], check=True)
    out = os.path.join(tmp, "run")
    run = subprocess.run([vae_train, so, "--epochs", "1", "--limit", "2000", "--out", out],
                         capture_output=True, text=True)
    print(run.stdout + run.stderr)
    check(run.returncode == 0, "vae-train exits 0")
    initial = float(re.search(r"test -ELBO at initialization ([0-9.]+)", run.stdout).group(1))
    after = float(re.search(r"epoch 1/1 .* test -ELBO ([0-9.]+)", run.stdout).group(1))
    check(after < 0.8 * initial, f"test -ELBO {after:.2f} < 0.8 x {initial:.2f} at initialization")
    metrics = open(os.path.join(out, "metrics.csv")).read().splitlines()
    check(len(metrics) == 2 and metrics[1].startswith("1,"), "metrics.csv has one epoch")
    record = json.load(open(os.path.join(out, "metrics.json")))
    check(record["model"] == "mnist_vae" and len(record["epochs"]) == 1 and
          abs(record["epochs"][0]["test"]["neg_elbo"] - after) < 0.01, "metrics.json matches")
    check(os.path.getsize(os.path.join(out, "checkpoint.bin")) > 0, "checkpoint written")
    check(not os.path.exists(os.path.join(out, "checkpoint.bin.tmp")), "no temporary left")
    # 2,000 = 15 x 128 + 80: the partial batch is trained on (padded, masked).
    steps = open(os.path.join(out, "steps.csv")).read().splitlines()
    check(len(steps) == 1 + 16 and "16 steps per epoch, the partial batch padded" in run.stdout,
          "16 steps per epoch with --last-batch pad (the default)")
    for picture in ("reconstructions.png", "samples.png", "latent_traversal.png",
                    "loss_curve.png"):
        data = open(os.path.join(out, picture), "rb").read()
        check(data.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in data[:16] and
              data.endswith(b"IEND\xaeB`\x82"), picture + " is a PNG")

    # The inference subcommands on the trained checkpoint.
    ev = subprocess.run([vae_train, "eval", so, "--out", out], capture_output=True, text=True)
    value = float(re.search(r"test -ELBO ([0-9.]+)", ev.stdout).group(1))
    check(ev.returncode == 0 and abs(value - after) < 0.01,
          f"eval reproduces the test -ELBO: {value:.2f}")
    subprocess.run([vae_train, "encode", so, "--out", out], check=True, capture_output=True)
    rows = open(os.path.join(out, "latents.csv")).read().splitlines()
    check(len(rows) == 10001 and len(rows[1].split(",")) == 2 + 20 and
          rows[1].split(",")[1].isdigit(), "encode writes label and 20 means per test image")
    subprocess.run([vae_train, "score", so, "--out", out], check=True, capture_output=True)
    rows = open(os.path.join(out, "scores.csv")).read().splitlines()
    mean = sum(float(r.split(",")[2]) for r in rows[1:]) / (len(rows) - 1)
    check(len(rows) == 10001 and abs(mean - value) < 0.01,
          f"scores average to the test -ELBO: {mean:.3f}")
    # Importance weighting: K = 1 scores the same z as eval (a sampled KL in
    # place of the exact one), and more samples give a tighter, lower bound.
    iw = {}
    for k in (1, 8):
        score = subprocess.run([vae_train, "score", so, "--out", out, "--iw", str(k)],
                               capture_output=True, text=True)
        iw[k] = float(re.search(r"K = \d+: ([0-9.]+) nats", score.stdout).group(1))
        rows = open(os.path.join(out, "scores.csv")).read().splitlines()
        check(score.returncode == 0 and rows[0].endswith(",neg_iw_log_likelihood") and
              len(rows) == 10001, f"score --iw {k} writes a column per test image")
    check(abs(iw[1] - value) < 0.5, f"IW K=1 {iw[1]:.2f} is the -ELBO {value:.2f} within 0.5")
    check(iw[8] < iw[1] - 1.0, f"IW K=8 {iw[8]:.2f} is tighter than K=1 {iw[1]:.2f}")

    # --last-batch drop, --binarize static and dynamic.
    for flags, expected_steps in ((["--last-batch", "drop"], 15),
                                  (["--binarize", "static"], 16),
                                  (["--binarize", "dynamic"], 16)):
        other = os.path.join(tmp, "-".join(flags))
        variant = subprocess.run([vae_train, so, "--epochs", "1", "--limit", "2000",
                                  "--out", other] + flags, capture_output=True, text=True)
        rows = open(os.path.join(other, "steps.csv")).read().splitlines()
        check(variant.returncode == 0 and len(rows) == 1 + expected_steps,
              f"{' '.join(flags)}: {expected_steps} steps")
    # eval of a --binarize dynamic run evaluates the test set as the run did
    # (statically binarized), without the flag given again.
    dynamic = os.path.join(tmp, "--binarize-dynamic")
    last = open(os.path.join(dynamic, "metrics.csv")).read().splitlines()[-1].split(",")
    ev = subprocess.run([vae_train, "eval", so, "--out", dynamic], capture_output=True, text=True)
    value = float(re.search(r"test -ELBO ([0-9.]+)", ev.stdout).group(1))
    check(ev.returncode == 0 and abs(value - float(last[5])) < 0.01,
          f"eval of a --binarize dynamic run uses its binarized test set: {value:.2f} "
          f"(the run's {float(last[5]):.2f})")
    ev = subprocess.run([vae_train, "eval", so, "--out", dynamic, "--binarize", "none"],
                        capture_output=True, text=True)
    other_value = float(re.search(r"test -ELBO ([0-9.]+)", ev.stdout).group(1))
    check(ev.returncode == 0 and abs(other_value - value) > 0.05,
          f"an explicit --binarize none overrides it: {other_value:.2f}")
    bad = subprocess.run([vae_train, so, "--binarize", "sometimes"], capture_output=True, text=True)
    check(bad.returncode != 0 and "sometimes not in {none,static,dynamic}" in bad.stderr,
          "an unknown --binarize is a clear error: " + bad.stderr.strip())
    # Counts out of range and flags that contradict each other are errors,
    # before anything is trained or written.
    for flags, message in [(["--limit", "0"], "--limit: Value 0 not in range 1"),
                           (["--limit", "-5"], "--limit: Value -5 not in range 1"),
                           (["--resume", "--overwrite"], "--resume excludes --overwrite")]:
        folder = os.path.join(tmp, "refused")
        bad = subprocess.run([vae_train, so, "--out", folder] + flags,
                             capture_output=True, text=True)
        # (Exit 2, a usage error; CLI11 gave 105.)
        check(bad.returncode == 2 and message in bad.stderr and
              not os.path.exists(folder),
              f"{' '.join(flags)} is a clear error, exit {bad.returncode}: " + bad.stderr.strip())

    # A run resumed after epoch 1 ends bit-identical to an uninterrupted one.
    straight, split = os.path.join(tmp, "straight"), os.path.join(tmp, "split")
    common = [vae_train, so, "--limit", "1024", "--seed", "5"]
    subprocess.run(common + ["--epochs", "2", "--out", straight], check=True, capture_output=True)
    subprocess.run(common + ["--epochs", "1", "--out", split], check=True, capture_output=True)
    resumed = subprocess.run(common + ["--epochs", "2", "--out", split, "--resume"],
                             capture_output=True, text=True)
    check(resumed.returncode == 0 and "resuming from" in resumed.stdout, "--resume continues")
    same = open(os.path.join(straight, "checkpoint.bin"), "rb").read() == \
        open(os.path.join(split, "checkpoint.bin"), "rb").read()
    check(same, "resumed checkpoint is bit-identical to the uninterrupted run's")
    rows = open(os.path.join(split, "metrics.csv")).read().splitlines()
    check(len(rows) == 3 and rows[2].startswith("2,"), "resumed metrics append epoch 2")
    again = subprocess.run(common + ["--epochs", "1", "--out", split], capture_output=True, text=True)
    check(again.returncode != 0 and "exists; --resume continues it" in again.stderr and
          open(os.path.join(split, "checkpoint.bin"), "rb").read() ==
          open(os.path.join(straight, "checkpoint.bin"), "rb").read(),
          "a new run does not overwrite a checkpoint: " + again.stderr.strip())
    bad = subprocess.run(common[:2] + ["--out", os.path.join(tmp, "nothing"), "--resume"],
                         capture_output=True, text=True)
    check(bad.returncode != 0 and "cannot open checkpoint" in bad.stderr,
          "--resume without a checkpoint is a clear error: " + bad.stderr.strip())

    # A crash after metrics.csv got epoch 3 but before its checkpoint: the
    # resumed run drops that row and writes it again, once.
    with open(os.path.join(split, "metrics.csv"), "a") as f:
        f.write("3,1,1,1,1,1,1,1,1,1,1\n")
    subprocess.run(common + ["--epochs", "3", "--out", split, "--resume"], check=True,
                   capture_output=True)
    rows = open(os.path.join(split, "metrics.csv")).read().splitlines()
    check(len(rows) == 4 and rows[3].startswith("3,") and rows[3] != "3,1,1,1,1,1,1,1,1,1,1",
          "a resumed run replaces rows past its checkpoint")
    record = json.load(open(os.path.join(split, "metrics.json")))
    check(len(record["epochs"]) == 3, "metrics.json of a resumed run holds every epoch")

    # A resumed run takes its data settings from the checkpoint; another
    # --limit or --binarize is refused, naming the flag, and nothing changes.
    before = open(os.path.join(split, "checkpoint.bin"), "rb").read()
    for flags, message in [(["--limit", "512"], "--limit 512, but the run trained with --limit 1024"),
                           (["--binarize", "static"],
                            "--binarize static, but the run trained with --binarize none")]:
        bad = subprocess.run(common[:2] + ["--epochs", "4", "--out", split, "--resume"] + flags,
                             capture_output=True, text=True)
        check(bad.returncode != 0 and message in bad.stderr and
              open(os.path.join(split, "checkpoint.bin"), "rb").read() == before,
              f"--resume {' '.join(flags)} is refused: " + bad.stderr.strip().splitlines()[-2])

    # Another model of the same shapes (tanh for relu in the decoder): its
    # checkpoint is refused by eval and --resume, naming the decoder.
    tanh_vdl = os.path.join(tmp, "tanh.vdl")
    with open(tanh_vdl, "w") as f:
        f.write(open(os.path.join(models, "mnist_vae.vdl")).read()
                .replace("h = relu(dense(z, 400));", "h = tanh(dense(z, 400));"))
    tanh_so = os.path.join(tmp, "tanh.so")
    subprocess.run([vaec, tanh_vdl, "-o", tanh_so], check=True)
    for args in (["eval", tanh_so, "--out", split],
                 [tanh_so, "--epochs", "4", "--out", split, "--resume"]):
        bad = subprocess.run([vae_train] + args, capture_output=True, text=True)
        check(bad.returncode != 0 and "was trained by another model: the decoder differs" in
              bad.stderr, f"{args[0]} with another model is refused: " + bad.stderr.strip())
    # The same model for another batch and CPU shares the checkpoint.
    other_so = os.path.join(tmp, "batch64.so")
    subprocess.run([vaec, os.path.join(models, "mnist_vae.vdl"), "--batch", "64",
                    "--cpu", "x86-64", "-o", other_so], check=True)
    ev = subprocess.run([vae_train, "eval", other_so, "--out", split], capture_output=True, text=True)
    check(ev.returncode == 0, "the library of another batch and CPU evaluates the checkpoint")

    # beta = 0.5 with a KL warm-up: every number called -ELBO is
    # reconstruction + KL; the objective (reconstruction + beta KL, with the
    # warm-up's weight in training) is reported under its own name.
    beta_vdl = os.path.join(tmp, "beta.vdl")
    with open(beta_vdl, "w") as f:
        f.write(open(os.path.join(models, "mnist_vae.vdl")).read()
                .replace("loss elbo(beta = 1.0);", "loss elbo(beta = 0.5, warmup = 1);"))
    beta_so = os.path.join(tmp, "beta.so")
    subprocess.run([vaec, beta_vdl, "-o", beta_so], check=True)
    beta_run = os.path.join(tmp, "beta")
    run = subprocess.run([vae_train, beta_so, "--epochs", "2", "--limit", "1000", "--out", beta_run],
                         capture_output=True, text=True)
    number = r"([0-9.]+)"
    lines = re.findall(rf"epoch (\d)/2  train -ELBO {number} \(rec {number}, KL {number}\)  test "
                       rf"-ELBO {number} \(rec {number}, KL {number}; [0-9.]+ bits/dim\)  "
                       rf"objective train {number} test {number}", run.stdout)
    check(run.returncode == 0 and len(lines) == 2, "beta 0.5: two epoch lines with the objective")
    for fields in lines:
        e, tr, trr, trk, te, ter, tek, otr, ote = [float(v) for v in fields]
        check(abs(tr - (trr + trk)) < 0.011 and abs(te - (ter + tek)) < 0.011,
              f"epoch {e:.0f}: -ELBO = rec + KL (train {tr}, test {te})")
        check(abs(ote - (ter + 0.5 * tek)) < 0.011, f"epoch {e:.0f}: test objective = rec + 0.5 KL")
        if e == 1:
            check(otr < tr - 0.5 * trk * 0.5, f"epoch 1 (warm-up): train objective {otr} "
                  f"weighs the KL less than the -ELBO {tr}")
    record = json.load(open(os.path.join(beta_run, "metrics.json")))
    test = record["epochs"][-1]["test"]
    check(abs(test["neg_elbo"] - test["reconstruction"] - test["kl"]) < 1e-3 and
          abs(test["objective"] - test["reconstruction"] - 0.5 * test["kl"]) < 1e-2,
          "metrics.json: neg_elbo and objective")
    ev = subprocess.run([vae_train, "eval", beta_so, "--out", beta_run], capture_output=True,
                        text=True)
    value = float(re.search(r"test -ELBO ([0-9.]+)", ev.stdout).group(1))
    check(ev.returncode == 0 and abs(value - test["neg_elbo"]) < 0.01 and
          "objective with beta 0.5" in ev.stdout, f"eval prints the -ELBO {value} and the objective")
    subprocess.run([vae_train, "score", beta_so, "--out", beta_run], check=True,
                   capture_output=True)
    rows = [[float(v) for v in r.split(",")[2:5]]
            for r in open(os.path.join(beta_run, "scores.csv")).read().splitlines()[1:]]
    check(all(abs(n - (r + k)) <= 1e-3 * max(1, n) for n, r, k in rows) and
          abs(sum(n for n, _, _ in rows) / len(rows) - value) < 0.01,
          "scores.csv: neg_elbo = reconstruction + kl, averaging to eval's -ELBO")

    # A diverging run (Adam at lr 1e4) stops at the first NaN: steps.csv has
    # every step up to it, and the message says which checkpoint is left.
    fresh = os.path.join(tmp, "diverge")
    bad = subprocess.run([vae_train, so, "--limit", "1000", "--out", fresh, "--lr", "1e4"],
                         capture_output=True, text=True)
    steps = open(os.path.join(fresh, "steps.csv")).read().splitlines()
    check(bad.returncode != 0 and "the loss became NaN at epoch 1" in bad.stderr and
          "no checkpoint was written" in bad.stderr and len(steps) > 1 and
          "nan" in steps[-1] and not os.path.exists(os.path.join(fresh, "checkpoint.bin")),
          f"a NaN stop with no checkpoint says so ({len(steps) - 1} steps logged): " +
          bad.stderr.strip())
    resumed = os.path.join(tmp, "diverge-resumed")
    subprocess.run([vae_train, so, "--limit", "1000", "--epochs", "1", "--out", resumed],
                   check=True, capture_output=True)
    bad = subprocess.run([vae_train, so, "--epochs", "3", "--out", resumed, "--resume",
                          "--lr", "1e4"], capture_output=True, text=True)
    check(bad.returncode != 0 and "the checkpoint of the end of epoch 1 is kept" in bad.stderr,
          "a NaN stop after a checkpoint names it: " + bad.stderr.strip())

    # SIGINT, then SIGTERM, each after the current step: a checkpoint, exit
    # 128 + the signal; resuming twice ends bit-identical to a straight run.
    full = [vae_train, so, "--epochs", "2", "--seed", "11"]
    straight2, stopped = os.path.join(tmp, "straight2"), os.path.join(tmp, "stopped")
    subprocess.run(full + ["--out", straight2], check=True, capture_output=True)
    for signal_number, resume in ((signal.SIGINT, []), (signal.SIGTERM, ["--resume"])):
        proc = subprocess.Popen(full + ["--out", stopped] + resume, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        for line in proc.stdout:  # training starts after this line
            if "test -ELBO at" in line:
                break
        time.sleep(0.3)
        proc.send_signal(signal_number)
        _, err = proc.communicate()
        name = signal.Signals(signal_number).name
        check(proc.returncode == 128 + signal_number and f"({name})" in err and
              "--resume continues from it" in err,
              f"{name}: exit {proc.returncode}, " + err.strip())
    finished = subprocess.run(full + ["--out", stopped, "--resume"], capture_output=True, text=True)
    check(finished.returncode == 0 and
          open(os.path.join(straight2, "checkpoint.bin"), "rb").read() ==
          open(os.path.join(stopped, "checkpoint.bin"), "rb").read(),
          "stopped twice and resumed: the checkpoint is bit-identical to the straight run's")
    check(open(os.path.join(straight2, "steps.csv")).read() ==
          open(os.path.join(stopped, "steps.csv")).read(),
          "and steps.csv is the same, every step once")
    rows = [r.split(",")[:9] for r in open(os.path.join(stopped, "metrics.csv")).read().splitlines()]
    check(rows == [r.split(",")[:9] for r in
                   open(os.path.join(straight2, "metrics.csv")).read().splitlines()],
          "and metrics.csv has the same -ELBO and terms per epoch")

    # Hyperparameters at run time, no recompiling: --lr reaches every step
    # (steps.csv's lr column), the checkpoint records it, a resumed run keeps
    # it unless told otherwise, and says so when told.
    tuned = os.path.join(tmp, "tuned")
    run = subprocess.run([vae_train, so, "--epochs", "1", "--limit", "1024", "--seed", "5",
                          "--out", tuned, "--lr", "0.003"], capture_output=True, text=True)
    steps = [r.split(",") for r in open(os.path.join(tuned, "steps.csv")).read().splitlines()]
    record = json.load(open(os.path.join(tuned, "metrics.json")))
    check(run.returncode == 0 and steps[0][7] == "lr" and
          all(abs(float(r[7]) - 0.003) < 1e-9 for r in steps[1:]) and
          abs(record["hyperparams"]["lr"] - 0.003) < 1e-12 and "adam lr 0.003" in run.stdout,
          "--lr 0.003 is the learning rate of every step")
    default_test = float(open(os.path.join(split, "metrics.csv")).read().splitlines()[1].split(",")[5])
    tuned_test = float(open(os.path.join(tuned, "metrics.csv")).read().splitlines()[1].split(",")[5])
    check(abs(tuned_test - default_test) > 1, f"and changes the result: test -ELBO {tuned_test:.2f} "
          f"against {default_test:.2f} at lr 0.001 (same data and seed)")
    run = subprocess.run([vae_train, so, "--epochs", "2", "--out", tuned, "--resume"],
                         capture_output=True, text=True)
    steps = [r.split(",") for r in open(os.path.join(tuned, "steps.csv")).read().splitlines()]
    check(run.returncode == 0 and all(abs(float(r[7]) - 0.003) < 1e-9 for r in steps[1:]),
          "a resumed run keeps the run's --lr")
    run = subprocess.run([vae_train, so, "--epochs", "3", "--out", tuned, "--resume", "--lr", "1e-4"],
                         capture_output=True, text=True)
    steps = [r.split(",") for r in open(os.path.join(tuned, "steps.csv")).read().splitlines()]
    check(run.returncode == 0 and "note: lr 0.0001 from step 17 on (the run used 0.003)" in run.stdout
          and abs(float(steps[-1][7]) - 1e-4) < 1e-12 and abs(float(steps[16][7]) - 0.003) < 1e-9,
          "--lr on --resume changes it from the next step, with a note")

    # A cosine schedule with warm-up: up over the first epoch, down to
    # --min-lr by the end.
    cosine = os.path.join(tmp, "cosine")
    run = subprocess.run([vae_train, so, "--epochs", "3", "--limit", "512", "--out", cosine,
                          "--schedule", "cosine", "--lr-warmup", "1", "--min-lr", "1e-5"],
                         capture_output=True, text=True)
    lrs = [float(r.split(",")[7]) for r in open(os.path.join(cosine, "steps.csv")).read().splitlines()[1:]]
    check(run.returncode == 0 and len(lrs) == 12 and lrs[0] < lrs[1] < lrs[2] < lrs[3] and
          abs(lrs[3] - 1e-3) < 1e-9 and all(a > b for a, b in zip(lrs[4:], lrs[5:])) and
          lrs[-1] < 1e-4, "cosine with warm-up: " + ", ".join(f"{v:.2g}" for v in lrs))

    # A validation split with early stopping. At lr 1e-30 no parameter moves,
    # so the validation -ELBO never improves after epoch 1: patience 1 stops
    # after epoch 2, on every CPU.
    stopped_early = os.path.join(tmp, "early")
    run = subprocess.run([vae_train, so, "--epochs", "6", "--limit", "1000", "--out", stopped_early,
                          "--val-fraction", "0.2", "--patience", "1", "--lr", "1e-30"],
                         capture_output=True, text=True)
    rows = open(os.path.join(stopped_early, "metrics.csv")).read().splitlines()
    check(run.returncode == 0 and "800 train" in run.stdout and
          "200 training examples held out for validation" in run.stdout and
          "early stopping: no better validation -ELBO in 1 epoch; the best" in run.stdout and
          len(rows) == 3 and rows[1].split(",")[11] == rows[2].split(",")[11],
          "--val-fraction 0.2 --patience 1 stops after epoch 2: " + run.stdout.strip().splitlines()[-2])
    ev = subprocess.run([vae_train, "eval", so, "--out", stopped_early, "--checkpoint",
                         os.path.join(stopped_early, "best.bin")], capture_output=True, text=True)
    check(ev.returncode == 0 and "checkpoint of epoch 1" in ev.stdout,
          "best.bin holds the best epoch's parameters: " + ev.stdout.strip())
    validated = os.path.join(tmp, "validated")
    run = subprocess.run([vae_train, so, "--epochs", "2", "--limit", "1000", "--out", validated,
                          "--val-fraction", "0.2"], capture_output=True, text=True)
    vals = [float(r.split(",")[11]) for r in open(os.path.join(validated, "metrics.csv")).read().splitlines()[1:]]
    check(run.returncode == 0 and vals[1] < vals[0] and
          open(os.path.join(validated, "best.bin"), "rb").read() ==
          open(os.path.join(validated, "checkpoint.bin"), "rb").read(),
          f"validation -ELBO {vals[0]:.2f} -> {vals[1]:.2f}: best.bin is the last epoch's")
    bad = subprocess.run([vae_train, so, "--epochs", "3", "--out", validated, "--resume",
                          "--val-fraction", "0.1"], capture_output=True, text=True)
    check(bad.returncode != 0 and "--val-fraction 0.1, but the run trained with --val-fraction 0.2"
          in bad.stderr, "another --val-fraction on --resume is refused")
    for flags, message in [(["--lr", "0"], "--lr: 0 is not in (0, inf)"),
                           (["--weight-decay", "0.1"], "--weight-decay is AdamW's decoupled"),
                           (["--clip-grad-norm", "1"], "compiled without gradient clipping"),
                           (["--momentum", "0.9"], "--momentum is SGD's")]:
        folder = os.path.join(tmp, "refused-hyper")
        bad = subprocess.run([vae_train, so, "--out", folder] + flags, capture_output=True, text=True)
        check(bad.returncode != 0 and message in bad.stderr and not os.path.exists(folder),
              f"{' '.join(flags)} is refused before anything is written: " + bad.stderr.strip().splitlines()[0])

    # The model with image-shaped input (flatten in, reshape out) is the
    # same computation: the same checkpoint, byte for byte, but for the
    # run record (model name and fingerprint), and its pictures.
    source = open(os.path.join(models, "mnist_vae.vdl")).read()
    image = (source.replace("input x: f32[784]", "input x: f32[1, 28, 28]")
             .replace("dense(x, 400)", "dense(flatten(x), 400)")
             .replace("logits = dense(h, 784)", "logits = reshape(dense(h, 784), [1, 28, 28])"))
    check(image.count("flatten") == 1 and image.count("reshape") == 1, "an image-shaped mnist_vae")
    image_vdl, image_so = os.path.join(tmp, "image_vae.vdl"), os.path.join(tmp, "image_vae.so")
    open(image_vdl, "w").write(image)
    subprocess.run([vaec, image_vdl, "-o", image_so], check=True)
    image_out = os.path.join(tmp, "image-run")
    same = subprocess.run([vae_train, image_so, "--epochs", "1", "--limit", "2000", "--out",
                           image_out, "--no-progress"], capture_output=True, text=True)
    flat = open(os.path.join(out, "checkpoint.bin"), "rb").read()
    shaped = open(os.path.join(image_out, "checkpoint.bin"), "rb").read()
    floats = 4 * (652848 + 2 * 652848)  # parameters and Adam's two moments
    body = slice(-32 - floats, -32)  # (before the SHA-256 of the whole file)
    check(same.returncode == 0 and len(flat) == len(shaped) and flat[body] == shaped[body],
          "the image-shaped model trains to the flat model's parameters and optimizer state, "
          "bit for bit")
    check(all(os.path.getsize(os.path.join(image_out, name)) > 0
              for name in ["reconstructions.png", "samples.png", "latent_traversal.png"]),
          "... and draws its pictures")

    # Bad data: an empty folder, then a file with a wrong magic number.
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    bad = subprocess.run([vae_train, so, "--data", empty], capture_output=True, text=True)
    check(bad.returncode != 0 and
          f"no train-images-idx3-ubyte or train-images-idx3-ubyte.gz in '{empty}'" in bad.stderr,
          "a missing data file is a clear error: " + bad.stderr.strip())
    for stem in ("train", "t10k"):  # (both are looked for before either is read)
        with open(os.path.join(empty, f"{stem}-images-idx3-ubyte"), "wb") as f:
            f.write(b"\x00\x00\x0d\x03" + b"\x00" * 12)
    bad = subprocess.run([vae_train, so, "--data", empty], capture_output=True, text=True)
    check(bad.returncode != 0 and "magic 0x00000d03 at byte 0" in bad.stderr,
          "a wrong magic number is a clear error: " + bad.stderr.strip())

finish()
