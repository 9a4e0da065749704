//! Diagnostic-accuracy and agreement statistics (being written).
