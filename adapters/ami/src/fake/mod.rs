//! A fake Asterisk manager port (written below).
