/* placeholder until the scenario catalogue lands */
int tern_scenarios_placeholder(void);
int tern_scenarios_placeholder(void)
{
	return 0;
}
