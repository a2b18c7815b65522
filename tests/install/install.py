#!/usr/bin/env python3
"""`cmake --install` into a fresh prefix, then use what it installed as a
user would: the tools from PREFIX/bin compile and train a model, and a
program of one's own links libvaert through the CMake package
(find_package(vaec)) and through pkg-config (vaert.pc), loads that model and
trains it."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from checks import check, finish  # noqa: E402

build_dir, source_dir, sanitize = sys.argv[1], sys.argv[2], sys.argv[3]
here = os.path.dirname(os.path.abspath(__file__))


def run(args, **kwargs):
    r = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if r.returncode:
        print(" ".join(args) + "\n" + r.stdout + r.stderr)
    return r


with tempfile.TemporaryDirectory() as tmp:
    prefix = os.path.join(tmp, "prefix")
    r = run(["cmake", "--install", build_dir, "--prefix", prefix])
    check(r.returncode == 0, "cmake --install")
    for name in ("bin/vaec", "bin/vae-opt", "bin/vae-train", "lib/libvaert.a",
                 "include/vae/abi.h", "include/vae/philox.h", "include/vae/Model.h",
                 "include/vae/Checkpoint.h",
                 "lib/cmake/vaec/vaecConfig.cmake", "lib/pkgconfig/vaert.pc"):
        check(os.path.exists(os.path.join(prefix, name)), "installed " + name)
    env = dict(os.environ, PATH=os.path.join(prefix, "bin") + os.pathsep + os.environ["PATH"])
    so = os.path.join(tmp, "vae.so")
    r = run(["vaec", os.path.join(source_dir, "models", "mnist_vae.vdl"), "--batch", "16",
             "-o", so], env=env)
    check(r.returncode == 0, "the installed vaec compiles mnist_vae.vdl")
    r = run(["vae-train", so, "--limit", "64", "--epochs", "1", "--out",
             os.path.join(tmp, "run")], env=env)
    check(r.returncode == 0 and "epoch 1/1" in r.stdout, "the installed vae-train trains it")

    flags = [f"-fsanitize={sanitize}"] if sanitize else []
    consumer = os.path.join(tmp, "consumer")
    os.makedirs(consumer)
    shutil.copy(os.path.join(here, "consumer.cpp"), consumer)
    shutil.copy(os.path.join(here, "CMakeLists.consumer.txt"),
                os.path.join(consumer, "CMakeLists.txt"))
    cxx = "clang++-19" if shutil.which("clang++-19") else "c++"
    r = run(["cmake", "-S", consumer, "-B", os.path.join(consumer, "build"), "-G", "Ninja",
             f"-DCMAKE_CXX_COMPILER={cxx}", f"-DCMAKE_PREFIX_PATH={prefix}",
             "-DCMAKE_CXX_FLAGS=" + " ".join(flags)])
    r2 = run(["cmake", "--build", os.path.join(consumer, "build")]) if r.returncode == 0 else r
    check(r2.returncode == 0, "find_package(vaec) and vaec::vaert build a program")
    checkpoint = os.path.join(tmp, "run", "checkpoint.bin")
    r = run([os.path.join(consumer, "build", "consumer"), so, checkpoint])
    print(r.stdout.strip())
    check(r.returncode == 0 and "model mnist_vae (ABI" in r.stdout and
          f"read {checkpoint}: epoch 1" in r.stdout and "read it back" in r.stdout,
          "... which reads vae-train's checkpoint (<vae/Checkpoint.h>), trains on from it (the "
          "loss falls) and writes and reads its own")

    pc = run(["pkg-config", "--cflags", "--libs", "vaert"],
             env=dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig")))
    check(pc.returncode == 0 and "-lvaert" in pc.stdout, "pkg-config vaert: " + pc.stdout.strip())
    binary = os.path.join(tmp, "consumer-pc")
    r = run([cxx, "-std=c++17", *flags, os.path.join(here, "consumer.cpp"), "-o", binary,
             *pc.stdout.split()])
    check(r.returncode == 0, "a program builds with pkg-config's flags")
    r = run([binary, so])
    check(r.returncode == 0 and "loss" in r.stdout, "... and trains the model")

finish()
