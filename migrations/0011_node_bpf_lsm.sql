-- Whether an enforcing node has the BPF LSM (issue #15); NULL for a node that does not enforce.
ALTER TABLE collectors ADD COLUMN bpf_lsm INTEGER;
