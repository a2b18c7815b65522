# -*- Python -*-
# lit configuration for vaec: FileCheck tests through vaec and vae-opt.

import os
import lit.formats

config.name = "vaec"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".vdl", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.vaec_obj_root, "tests", "lit")

# vaec's tools first, then LLVM's (FileCheck, not, split-file).
config.environment["PATH"] = os.pathsep.join(
    [config.vaec_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])]
)
config.substitutions.append(("%models", os.path.join(config.vaec_src_root, "models")))

# NVIDIA's PTX assembler, for the tests that assemble --target=nvptx's PTX
# (REQUIRES: ptxas); absent, lit reports them UNSUPPORTED.
import shutil
ptxas = shutil.which("ptxas") or next(
    (p for p in ["/usr/local/cuda/bin/ptxas"] if os.access(p, os.X_OK)), None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
else:
    lit_config.note("ptxas not found (PATH, /usr/local/cuda/bin): the PTX assembly tests are UNSUPPORTED")
