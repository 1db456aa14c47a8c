package org.jhyve.gdb;

/** What one thread does when gdb resumes the target ({@code c}, {@code s}, {@code vCont}). */
public enum ResumeAction { CONTINUE, STEP }
