//! Decision tests (see tests/ submodules).
