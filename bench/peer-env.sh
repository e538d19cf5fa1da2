# Sourced by the bench scripts once $py is set: peer_env, the command prefix a peer (NumPy, PyTorch) runs under.
# OPENBLAS_L2_SIZE is dropped and OPENBLAS_CORETYPE is dropped too (either can force a slower kernel), except where
# this OpenBLAS does not know the CPU's model and would pick a kernel narrower than its vectors by itself: there it
# is set to the kernel for the CPU's widest vectors (bench/python/peer_blas.py coretype), and the peer's '# ...'
# line says so.
peer_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
if [ -n "${py:-}" ]; then
  peer_core=$(env -u OPENBLAS_CORETYPE "$py" "$(dirname "${BASH_SOURCE[0]}")/python/peer_blas.py" coretype 2>/dev/null || true)
  if [ -n "$peer_core" ]; then peer_env=(env -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE="$peer_core"); fi
fi
