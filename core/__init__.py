"""Shared leaf: code every app may use; imports no app (STYLE.md "Layout and layers")."""
