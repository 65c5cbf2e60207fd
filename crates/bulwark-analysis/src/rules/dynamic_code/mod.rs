//! Code built and evaluated at run time.
pub(crate) mod decoded_code_execution;
