package org.jhyve.vm.debug;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jhyve.gdb.ResumeAction;
import org.jhyve.gdb.Stop;
import org.jhyve.hv.GuestDebug;
import org.jhyve.hv.Vcpu;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All-stop run control for a debugger: which vCPUs may run, step, or must stay parked, and the hand-over of
 * work that KVM wants done on a vCPU's own thread (reading registers, translating addresses) while it is parked.
 *
 * <p>A resume lets some vCPUs run; the first debug event on any of them (or a Ctrl-C) becomes the pending
 * stop, every vCPU is told to stop and kicked out of the guest, and when the last one has parked the stop is
 * reported, once. The VM ending reports {@link Stop.Exited} instead.
 */
final class DebugGate {
    private static final Logger log = LoggerFactory.getLogger(DebugGate.class);

    private enum Mode { STOPPED, CONTINUE, STEP }

    private final List<Vcpu> vcpus;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Mode[] modes;
    private final List<Deque<FutureTask<?>>> tasks;
    /** What each vCPU should have in KVM_SET_GUEST_DEBUG (step added per run), and what it has; the latter vCPU-thread only. */
    private GuestDebug wanted = GuestDebug.OFF;
    private final GuestDebug[] applied;
    private int parked;
    private int live;
    private Stop pendingStop;
    private Consumer<Stop> whenStopped;
    private Stop.Exited exited;

    /** The VM starts held, waiting for gdb. */
    DebugGate(List<? extends Vcpu> vcpus) {
        this(vcpus, true);
    }

    /**
     * With {@code startHeld} false the vCPUs run from the start (bhyve's {@code -G} without {@code w}) until a gdb
     * attaches ({@link #stopAll}) and stops them.
     */
    DebugGate(List<? extends Vcpu> vcpus, boolean startHeld) {
        this.vcpus = List.copyOf(vcpus);
        this.modes = new Mode[vcpus.size()];
        Arrays.fill(modes, startHeld ? Mode.STOPPED : Mode.CONTINUE);
        this.tasks = vcpus.stream().<Deque<FutureTask<?>>>map(v -> new ArrayDeque<>()).toList();
        this.applied = new GuestDebug[vcpus.size()];
        Arrays.fill(applied, GuestDebug.OFF);
        this.live = vcpus.size();
    }

    // ---- the vCPU threads' side ----

    /** Parks while this vCPU is stopped, running the work handed to it; false once the VM has ended. */
    boolean awaitRun(Vcpu vcpu) {
        int i = vcpu.index();
        GuestDebug debug;
        lock.lock();
        try {
            boolean counted = false;
            while (exited == null && modes[i] == Mode.STOPPED) {
                if (!counted) {
                    counted = true;
                    parked++;
                    changed.signalAll();
                    reportIfAllStopped();
                }
                FutureTask<?> task = tasks.get(i).poll();
                if (task == null) {
                    changed.awaitUninterruptibly();
                    continue;
                }
                lock.unlock();
                try {
                    task.run();
                } finally {
                    lock.lock();
                }
            }
            if (counted) parked--;
            if (exited != null) return false;
            debug = wanted.withSingleStep(modes[i] == Mode.STEP);
        } finally {
            lock.unlock();
        }
        if (!debug.equals(applied[i])) apply(vcpu, debug);
        return true;
    }

    private void apply(Vcpu vcpu, GuestDebug debug) {
        try {
            vcpu.setGuestDebug(debug);
        } catch (RuntimeException e) {
            // Not fatal to the guest: it runs on, and gdb sees the step or breakpoint never come.
            log.warn("vCPU {}: the hypervisor refused guest debugging {}: {}", vcpu.index(), debug, e.getMessage());
        }
        applied[vcpu.index()] = debug;
    }

    /** A debug event on vCPU {@code index}: it stops, and unless another stop is already pending, all stop. */
    void stop(int index, Stop stop) {
        lock.lock();
        try {
            if (whenStopped == null) return; // no debugger waits (detached): a late event, nothing to stop for
            modes[index] = Mode.STOPPED;
            if (pendingStop == null) stopAllFor(stop);
        } finally {
            lock.unlock();
        }
    }

    boolean isStepping(int index) {
        lock.lock();
        try {
            return modes[index] == Mode.STEP;
        } finally {
            lock.unlock();
        }
    }

    void vcpuExited() {
        lock.lock();
        try {
            live--;
            changed.signalAll();
            reportIfAllStopped();
        } finally {
            lock.unlock();
        }
    }

    /** The VM has ended: parked vCPUs leave, queued work is cancelled, a waiting debugger hears the exit status. */
    void vmEnded(int status) {
        lock.lock();
        try {
            if (exited != null) return;
            exited = new Stop.Exited(status);
            tasks.forEach(queue -> queue.forEach(t -> t.cancel(false)));
            changed.signalAll();
            Consumer<Stop> report = whenStopped;
            whenStopped = null;
            if (report != null) report.accept(exited);
        } finally {
            lock.unlock();
        }
    }

    // ---- the debugger's side ----

    /** Stops every vCPU (if any runs) and waits until all are parked; the stop to greet a new gdb with. */
    Stop stopAll() {
        lock.lock();
        try {
            whenStopped = null;
            pendingStop = null;
            Arrays.fill(modes, Mode.STOPPED);
            vcpus.forEach(Vcpu::kick);
            while (exited == null && parked < live) changed.awaitUninterruptibly();
            return exited != null ? exited : new Stop.Trapped(1, Stop.Cause.NONE);
        } finally {
            lock.unlock();
        }
    }

    /** Lets the vCPUs named in {@code actions} (1-based) run or step; {@code whenStopped} gets the next stop. */
    void resume(Map<Integer, ResumeAction> actions, Consumer<Stop> report) {
        lock.lock();
        try {
            if (exited != null) {
                report.accept(exited);
                return;
            }
            pendingStop = null;
            whenStopped = report;
            for (int i = 0; i < modes.length; i++) {
                ResumeAction action = actions.get(i + 1);
                modes[i] = action == null ? Mode.STOPPED : action == ResumeAction.STEP ? Mode.STEP : Mode.CONTINUE;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Ctrl-C: the first running vCPU is named as the one interrupted. */
    void interrupt() {
        lock.lock();
        try {
            if (whenStopped == null || pendingStop != null) return;
            int running = 0;
            while (running < modes.length - 1 && modes[running] == Mode.STOPPED) running++;
            stopAllFor(new Stop.Interrupted(running + 1));
        } finally {
            lock.unlock();
        }
    }

    /** What every vCPU should intercept from its next run on (breakpoints changed). */
    void setGuestDebug(GuestDebug debug) {
        lock.lock();
        try {
            wanted = debug;
        } finally {
            lock.unlock();
        }
    }

    /** Lets every vCPU run without the debugger. */
    void release() {
        lock.lock();
        try {
            whenStopped = null;
            pendingStop = null;
            wanted = GuestDebug.OFF;
            Arrays.fill(modes, Mode.CONTINUE);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code work} on vCPU {@code index}'s thread, which must be stopped, and returns its result. */
    <T> T onVcpu(int index, Function<Vcpu, T> work) {
        Vcpu vcpu = vcpus.get(index);
        FutureTask<T> task = new FutureTask<>(() -> work.apply(vcpu));
        lock.lock();
        try {
            if (exited != null) throw new IllegalStateException("the VM has ended");
            if (modes[index] != Mode.STOPPED) throw new IllegalStateException("vCPU " + index + " is running");
            tasks.get(index).add(task);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            return task.get();
        } catch (CancellationException e) {
            throw new IllegalStateException("the VM has ended");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for vCPU " + index);
        }
    }

    // ---- under the lock ----

    private void stopAllFor(Stop stop) {
        pendingStop = stop;
        Arrays.fill(modes, Mode.STOPPED);
        for (Vcpu v : vcpus) v.kick();
        changed.signalAll();
        reportIfAllStopped();
    }

    private void reportIfAllStopped() {
        if (pendingStop == null || whenStopped == null || parked < live) return;
        Consumer<Stop> report = whenStopped;
        whenStopped = null;
        report.accept(pendingStop);
    }
}
