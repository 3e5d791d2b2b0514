//! Building sites: fixtures and the bundled note.
