//! Install-time triggers: lifecycle scripts, `binding.gyp` command expansion, remote dependencies.
pub(crate) mod binding_gyp_command;
pub(crate) mod lifecycle_script;
pub(crate) mod remote_dependency;
