// The object file of the precompiled-header targets (cmake/Precompiled.cmake): empty.
