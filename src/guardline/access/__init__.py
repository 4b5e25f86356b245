"""Access control: roles and permissions, tenant and case scope, unmask requests and grants, access review."""
