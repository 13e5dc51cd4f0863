{
  # hark's FAISS addon. Debian's libfaiss-dev ships only the static libfaiss.a: it is embedded here and
  # linked with the system BLAS/LAPACK (resolved at run time through Debian's alternatives, OpenBLAS when
  # libopenblas0-openmp is installed) and GNU OpenMP. --exclude-libs keeps FAISS's symbols private.
  # No -march: the binary must run on any x86-64 machine of the CI kind. -ffp-contract=off: no multiply-add
  # is ever fused, so ExactDistance (flat_search.cc) rounds as the TypeScript fallback does.
  "targets": [
    {
      "target_name": "hark_faiss",
      "sources": [
        "src/addon/addon.cc",
        "src/addon/args.cc",
        "src/addon/blas.cc",
        "src/addon/bound_search.cc",
        "src/addon/context_search.cc",
        "src/addon/errors.cc",
        "src/addon/flat_search.cc",
        "src/addon/index_async.cc",
        "src/addon/index_build.cc",
        "src/addon/index_io.cc",
        "src/addon/index_wrap.cc",
        "src/addon/kcenter.cc",
        "src/addon/residual_map.cc",
        "src/addon/rows.cc",
        "src/addon/threads.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-fopenmp", "-ffp-contract=off", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp", "-Wl,--exclude-libs,ALL"],
      "libraries": ["-l:libfaiss.a", "-llapack", "-lblas", "-lgomp"]
    }
  ]
}
