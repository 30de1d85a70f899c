//! Examples for the guide.
