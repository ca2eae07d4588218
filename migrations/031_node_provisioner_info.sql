-- Provisioners describe themselves (issue 12): the agent's hello carries one line per provisioner
-- (e.g. "QEMU microvm, software emulation (TCG): /dev/kvm does not work here"), shown with the node.
ALTER TABLE nodes ADD COLUMN provisioner_info jsonb NOT NULL DEFAULT '{}'::jsonb;
